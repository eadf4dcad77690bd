package dev.hearth.agent.image;

import dev.hearth.agent.state.PrivateFiles;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongConsumer;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams a URL to a file while hashing it. The URL is tenant input fetched from the node's
 * network, so: the host is resolved once, every address is checked against {@link Destinations},
 * and the connection goes to the checked address (HTTP/1.1 over a socket this class opens, TLS
 * verified against the URL's host name), so a second DNS answer cannot redirect it. Redirects are
 * not followed. Size (declared and streamed) and time (connect, per read, whole download) are
 * bounded. Messages name a category only: what the server said or how a connection failed goes to
 * the agent's log, never to the tenant's status.
 */
final class HttpDownloader {
  private static final Logger LOG = LoggerFactory.getLogger(HttpDownloader.class);
  private static final int MAX_HEADER_BYTES = 64 * 1024;

  private final Duration connectTimeout;
  private final Duration readTimeout;
  private final Duration totalTimeout;
  private final Destinations destinations;

  HttpDownloader(
      Duration connectTimeout,
      Duration readTimeout,
      Duration totalTimeout,
      Destinations destinations) {
    this.connectTimeout = connectTimeout;
    this.readTimeout = readTimeout;
    this.totalTimeout = totalTimeout;
    this.destinations = destinations;
  }

  /**
   * Downloads {@code uri} into {@code target} (created 0600, synced), at most {@code maxBytes}, and
   * returns its sha256 in hex.
   */
  String download(URI uri, Path target, long maxBytes) throws ImageException {
    long deadline = System.nanoTime() + totalTimeout.toNanos();
    try (Exchange response = open(uri, Map.of(), deadline)) {
      if (response.status() >= 300 && response.status() <= 399) {
        throw failed(uri, "redirect not followed (HTTP " + response.status() + ")", null);
      }
      if (response.status() == 404 || response.status() == 410) {
        throw new ImageException.NotFound(uri + " answered HTTP " + response.status());
      }
      if (response.status() < 200 || response.status() > 299) {
        throw failed(uri, "HTTP " + response.status(), null);
      }
      return save(uri, response, target, maxBytes, deadline);
    } catch (SocketTimeoutException e) {
      throw timeout(uri, e);
    } catch (IOException e) {
      throw failed(uri, "connection failed", e);
    }
  }

  /**
   * One GET of {@code uri} with {@code headers}, to an address {@link Destinations} allows; the
   * caller reads the status, the headers and the body, and closes it. Nothing is followed.
   */
  Exchange open(URI uri, Map<String, String> headers, long deadline)
      throws IOException, ImageException {
    boolean tls = "https".equalsIgnoreCase(uri.getScheme());
    String host = uri.getHost();
    if (host == null) {
      throw failed(uri, "the URL has no host", null);
    }
    String bareHost = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    int port = uri.getPort() >= 0 ? uri.getPort() : tls ? 443 : 80;
    InetAddress address = checkedAddress(uri, bareHost);
    Socket socket = connect(uri, address, port, tls, bareHost);
    try {
      socket.setSoTimeout(millis(readTimeout));
      OutputStream out = socket.getOutputStream();
      String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
      if (uri.getRawQuery() != null) {
        path += "?" + uri.getRawQuery();
      }
      String hostHeader = uri.getPort() >= 0 ? host + ":" + port : host;
      StringBuilder request =
          new StringBuilder("GET ")
              .append(path)
              .append(" HTTP/1.1\r\nHost: ")
              .append(hostHeader)
              .append("\r\nUser-Agent: hearth-agent\r\nAccept-Encoding: identity");
      for (Map.Entry<String, String> h : headers.entrySet()) {
        if (h.getValue().chars().anyMatch(c -> c < 0x20 || c > 0x7e)) {
          throw failed(uri, "a request header holds a control or non-ASCII character", null);
        }
        request.append("\r\n").append(h.getKey()).append(": ").append(h.getValue());
      }
      request.append("\r\nConnection: close\r\n\r\n");
      out.write(request.toString().getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = new BufferedInputStream(socket.getInputStream());
      Response response = readHead(in, deadline);
      InputStream body = response.chunked() ? new ChunkedInputStream(in) : in;
      return new Exchange(socket, response, body);
    } catch (IOException | ImageException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /** A response being read: status, headers (names lowercase), body. Closing closes the socket. */
  static final class Exchange implements AutoCloseable {
    private final Socket socket;
    private final Response head;
    private final InputStream body;

    private Exchange(Socket socket, Response head, InputStream body) {
      this.socket = socket;
      this.head = head;
      this.body = body;
    }

    int status() {
      return head.status();
    }

    /** The Content-Length, or -1 when chunked or not declared. */
    long contentLength() {
      return head.contentLength();
    }

    /** The first value of header {@code name} (lowercase). */
    Optional<String> header(String name) {
      return Optional.ofNullable(head.headers().get(name));
    }

    InputStream body() {
      return body;
    }

    /** At most {@code max} bytes of the body, or an IOException when it is longer. */
    byte[] readBody(int max) throws IOException {
      if (head.contentLength() > max) {
        throw new IOException("response body larger than " + max + " bytes");
      }
      byte[] bytes = body.readNBytes(max + 1);
      if (bytes.length > max) {
        throw new IOException("response body larger than " + max + " bytes");
      }
      return bytes;
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  ImageException timeout(URI uri, SocketTimeoutException e) {
    LOG.info("downloading {} timed out: {}", uri, e.toString());
    return new ImageException.Timeout(
        uri
            + ": download failed: timed out (connect "
            + connectTimeout
            + ", read "
            + readTimeout
            + ")",
        e);
  }

  private InetAddress checkedAddress(URI uri, String host) throws ImageException {
    InetAddress[] all;
    try {
      all = InetAddress.getAllByName(host);
    } catch (UnknownHostException e) {
      throw failed(uri, "host name not resolved", e);
    }
    for (InetAddress a : all) { // every answer: a refused one anywhere refuses the host
      var refusal = destinations.refusal(a);
      if (refusal.isPresent()) {
        LOG.warn("refused image URL {}: {} resolves to {}", uri, host, a.getHostAddress());
        throw failed(uri, "destination refused: " + refusal.get(), null);
      }
    }
    return all[0];
  }

  private Socket connect(URI uri, InetAddress address, int port, boolean tls, String host)
      throws IOException {
    Socket raw = new Socket();
    try {
      raw.connect(new InetSocketAddress(address, port), millis(connectTimeout));
      if (!tls) {
        return raw;
      }
      SSLSocket ssl =
          (SSLSocket)
              ((SSLSocketFactory) SSLSocketFactory.getDefault())
                  .createSocket(raw, host, port, true);
      SSLParameters params = ssl.getSSLParameters();
      params.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the host
      if (!Character.isDigit(host.charAt(0)) && !host.contains(":")) {
        params.setServerNames(List.of(new SNIHostName(host)));
      }
      ssl.setSSLParameters(params);
      ssl.setSoTimeout(millis(connectTimeout));
      ssl.startHandshake();
      return ssl;
    } catch (IOException | RuntimeException e) {
      raw.close();
      throw e;
    }
  }

  private record Response(
      int status, long contentLength, boolean chunked, Map<String, String> headers) {}

  private Response readHead(InputStream in, long deadline) throws IOException {
    String statusLine = line(in, deadline);
    String[] parts = statusLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
      throw new IOException("not an HTTP/1.x response");
    }
    int status;
    try {
      status = Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      throw new IOException("bad status line", e);
    }
    long length = -1;
    boolean chunked = false;
    int headerBytes = 0;
    Map<String, String> headers = new HashMap<>();
    for (String h; !(h = line(in, deadline)).isEmpty(); ) {
      headerBytes += h.length();
      if (headerBytes > MAX_HEADER_BYTES) {
        throw new IOException("response headers too large");
      }
      int colon = h.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = h.substring(colon + 1).trim();
      headers.putIfAbsent(name, value);
      if (name.equals("content-length")) {
        try {
          length = Long.parseLong(value);
        } catch (NumberFormatException e) {
          throw new IOException("bad Content-Length", e);
        }
      } else if (name.equals("transfer-encoding")) {
        chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
      }
    }
    return new Response(status, chunked ? -1 : length, chunked, headers);
  }

  /** One CRLF-terminated header line, bounded in size and by the deadline. */
  static String line(InputStream in, long deadline) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    for (int c; (c = in.read()) != '\n'; ) {
      if (c < 0) {
        throw new IOException("connection closed in the response head");
      }
      if (buf.size() > MAX_HEADER_BYTES || System.nanoTime() > deadline) {
        throw new SocketTimeoutException("response head too slow or too large");
      }
      if (c != '\r') {
        buf.write(c);
      }
    }
    return buf.toString(StandardCharsets.ISO_8859_1);
  }

  /**
   * Streams {@code response}'s body into {@code target} (created 0600, synced), at most {@code
   * maxBytes} and within {@code deadline}; its sha256 in hex.
   */
  String save(URI uri, Exchange response, Path target, long maxBytes, long deadline)
      throws IOException, ImageException {
    return save(uri, response, target, maxBytes, deadline, n -> {});
  }

  /** As {@link #save(URI, Exchange, Path, long, long)}, telling {@code read} each chunk's size. */
  String save(
      URI uri, Exchange response, Path target, long maxBytes, long deadline, LongConsumer read)
      throws IOException, ImageException {
    long declared = response.contentLength();
    if (declared > maxBytes) {
      throw failed(uri, "larger than the " + maxBytes + " bytes allowed", null);
    }
    InputStream in = response.body();
    MessageDigest sha = sha256();
    try (FileChannel ch = PrivateFiles.createNew(target);
        OutputStream out = Channels.newOutputStream(ch)) {
      byte[] buf = new byte[64 * 1024];
      long total = 0;
      for (int n; (n = in.read(buf)) >= 0; ) {
        total += n;
        if (total > maxBytes) {
          throw failed(uri, "larger than the " + maxBytes + " bytes allowed", null);
        }
        if (System.nanoTime() > deadline) {
          throw new ImageException.Timeout(
              uri + ": download failed: not finished within " + totalTimeout, null);
        }
        sha.update(buf, 0, n);
        out.write(buf, 0, n);
        read.accept(n);
        if (declared >= 0 && total == declared) {
          break; // Connection: close is a request; do not wait on a server that keeps it open
        }
      }
      if (declared >= 0 && total != declared) {
        throw failed(uri, "the body ended after " + total + " of " + declared + " bytes", null);
      }
      ch.force(true);
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  static ImageException failed(URI uri, String category, Throwable cause) {
    if (cause != null) {
      LOG.info("downloading {} failed: {}", uri, cause.toString()); // the detail: admins only
    }
    return new ImageException.FetchFailed(uri + ": download failed: " + category, null);
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JDK has SHA-256", e);
    }
  }

  private static int millis(Duration d) {
    return (int) Math.min(Integer.MAX_VALUE, Math.max(1, d.toMillis()));
  }
}
