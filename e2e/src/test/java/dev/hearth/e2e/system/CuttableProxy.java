package dev.hearth.e2e.system;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy in front of the API server that the test can cut as a network partition does: after
 * {@link #cut()} nothing passes in either direction, yet every connection stays open and new ones
 * are still accepted, so the client learns nothing and waits out its own timeouts, as it would
 * behind a dropped link (a refused or reset connection would tell it at once).
 */
final class CuttableProxy implements AutoCloseable {
  private final ServerSocket server;
  private final URI target;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile boolean cut;

  /** Proxies to {@code target} ({@code https://host:port}) from a free loopback port. */
  CuttableProxy(URI target) throws IOException {
    this.target = target;
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofVirtual().name("proxy-accept").start(this::accept);
  }

  /** Where clients connect: the target's scheme, this proxy's address. */
  URI uri() {
    return URI.create(target.getScheme() + "://127.0.0.1:" + server.getLocalPort());
  }

  /** From now on nothing passes; connections stay open and silent. */
  void cut() {
    cut = true;
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket in = server.accept();
        sockets.add(in);
        if (cut) {
          Thread.ofVirtual().start(() -> pump(in, null)); // held open, read and dropped
          continue;
        }
        Socket out = new Socket(target.getHost(), target.getPort());
        sockets.add(out);
        Thread.ofVirtual().start(() -> pump(in, out));
        Thread.ofVirtual().start(() -> pump(out, in));
      } catch (IOException e) {
        if (server.isClosed()) {
          return;
        }
      }
    }
  }

  private void pump(Socket from, Socket to) {
    byte[] buffer = new byte[16 * 1024];
    try (InputStream in = from.getInputStream()) {
      OutputStream out = to == null ? null : to.getOutputStream();
      for (int n; (n = in.read(buffer)) >= 0; ) {
        if (!cut && out != null) {
          out.write(buffer, 0, n);
          out.flush();
        }
      }
      if (!cut && to != null) {
        to.shutdownOutput();
      }
    } catch (IOException e) {
      // a side closed
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : sockets) {
      s.close();
    }
  }
}
