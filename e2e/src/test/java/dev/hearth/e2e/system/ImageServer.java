package dev.hearth.e2e.system;

import com.sun.net.httpserver.HttpServer;
import dev.hearth.api.v1alpha1.ImageSource;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Serves guest images over HTTP on loopback, so that VMs take their kernel from a URL with a sha256
 * the way a cluster would: the agent downloads, verifies and caches it, and holds a cache reference
 * for each VM that uses it.
 */
final class ImageServer implements AutoCloseable {
  private final HttpServer server;
  private final Map<String, byte[]> files = new ConcurrentHashMap<>();

  ImageServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        ex -> {
          byte[] body = files.get(ex.getRequestURI().getPath());
          if (body == null) {
            ex.sendResponseHeaders(404, -1);
          } else {
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
              out.write(body);
            }
          }
          ex.close();
        });
    server.start();
  }

  /** Publishes {@code file} and returns its source: its URL and its sha256. */
  ImageSource publish(Path file) throws IOException {
    byte[] body = Files.readAllBytes(file);
    String path = "/" + file.getFileName();
    files.put(path, body);
    return ImageSource.ofUrl(
        "http://127.0.0.1:" + server.getAddress().getPort() + path, sha256(body));
  }

  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
