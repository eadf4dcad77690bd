package dev.hearth.agent.http;

import dev.hearth.agent.auth.Access;
import dev.hearth.agent.auth.KubeAuthorizer;
import dev.hearth.agent.console.ConsoleBuffer;
import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.metrics.AgentMetrics;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's HTTPS endpoints, one request per connection, a virtual thread each:
 *
 * <ul>
 *   <li>{@code GET /healthz}, {@code GET /readyz}: 200 "ok", or 503 with one problem per line. The
 *       only endpoints served without a token (the kubelet's probes carry none).
 *   <li>{@code GET /metrics}: Prometheus text format, to a bearer allowed {@code get} on the
 *       non-resource URL {@code /metrics}, as the kubelet and kube-rbac-proxy serve theirs.
 *   <li>{@code GET /vms/<namespace>/<name>/console}: the VM's recent serial output; with {@code
 *       ?follow=true} new output streams until the VM is removed. Needs {@code get} on {@code
 *       microvms/console}. With a WebSocket upgrade it is interactive (output out, input in), and
 *       needs {@code create}.
 * </ul>
 *
 * Every other request is refused. Tokens are checked by the API server ({@link KubeAuthorizer}),
 * before the server says whether the VM is on this node.
 */
public final class AgentHttpServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AgentHttpServer.class);
  private static final Pattern CONSOLE =
      Pattern.compile(
          "/vms/([a-z0-9]([-a-z0-9]*[a-z0-9])?)/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)/console");

  /** Handshake and request head must arrive within this; a stalled client loses its slot. */
  static final Duration HEAD_TIMEOUT = Duration.ofSeconds(10);

  /** Connections served at once; more are closed at once (consoles stay open a long time). */
  static final int MAX_CONNECTIONS = 256;

  private final SSLServerSocket server;
  private final KubeAuthorizer auth;
  private final ConsoleRegistry consoles;
  private final AgentMetrics metrics;
  private final HealthChecks health;
  private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /**
   * Binds {@code address} with {@code tls}'s certificate; {@link #start} accepts.
   *
   * @param auth who may read metrics and use consoles
   */
  public AgentHttpServer(
      InetSocketAddress address,
      SSLContext tls,
      KubeAuthorizer auth,
      ConsoleRegistry consoles,
      AgentMetrics metrics,
      HealthChecks health)
      throws IOException {
    this.auth = auth;
    this.consoles = consoles;
    this.metrics = metrics;
    this.health = health;
    this.server = (SSLServerSocket) tls.getServerSocketFactory().createServerSocket();
    server.setReuseAddress(true);
    server.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
    server.bind(address, 128);
  }

  public AgentHttpServer start() {
    Thread.ofPlatform().name("hearth-https").daemon().start(this::acceptLoop);
    return this;
  }

  public int port() {
    return server.getLocalPort();
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // Closing anyway.
    }
    open.forEach(AgentHttpServer::quietClose);
  }

  private void acceptLoop() {
    while (!closed) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        if (!closed) {
          LOG.warn("HTTPS accept failed: {}", e.toString());
        }
        continue;
      }
      if (!slots.tryAcquire()) {
        quietClose(s);
        continue;
      }
      open.add(s);
      Thread.ofVirtual()
          .name("hearth-https-conn")
          .start(
              () -> {
                try {
                  serve((SSLSocket) s);
                } finally {
                  open.remove(s);
                  quietClose(s);
                  slots.release();
                }
              });
    }
  }

  private void serve(SSLSocket s) {
    try {
      s.setSoTimeout((int) HEAD_TIMEOUT.toMillis());
      s.startHandshake();
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = new BufferedOutputStream(s.getOutputStream());
      HttpHead head;
      try {
        head = HttpHead.read(in);
      } catch (HttpException e) {
        text(out, e.status(), e.getMessage() + "\n");
        return;
      }
      if (!head.method().equals("GET")) {
        respond(out, 405, "text/plain; charset=utf-8", "only GET is served\n", "Allow: GET");
        return;
      }
      route(head, s, in, out);
    } catch (IOException e) {
      // A client that went away, failed its handshake or stalled: nothing to tell anyone.
      LOG.debug("HTTPS connection from {} ended: {}", s.getRemoteSocketAddress(), e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void route(HttpHead head, SSLSocket s, InputStream in, OutputStream out)
      throws IOException, InterruptedException {
    String authorization = head.header("authorization").orElse(null);
    switch (head.path()) {
      case "/healthz" -> probe(out, health.livenessProblems());
      case "/readyz" -> probe(out, health.readinessProblems());
      case "/metrics" -> {
        if (allowed(out, auth.nonResource(authorization, "/metrics", "get"))) {
          respond(out, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
        }
      }
      default -> {
        Matcher m = CONSOLE.matcher(head.path());
        if (!m.matches()) {
          text(out, 404, "no such endpoint: " + head.path() + "\n");
          return;
        }
        String ns = m.group(1);
        String name = m.group(3);
        boolean upgrade = head.header("upgrade").isPresent();
        Access access = auth.console(authorization, ns, name, upgrade ? "create" : "get");
        if (!allowed(out, access)) {
          return;
        }
        Optional<ConsoleBuffer> found = consoles.find(ns, name);
        if (found.isEmpty()) {
          text(out, 404, "no MicroVM " + ns + "/" + name + " on this node\n");
          return;
        }
        String user = ((Access.Allowed) access).user();
        if (upgrade) {
          Optional<String> accept = handshake(head);
          if (accept.isEmpty()) {
            text(out, 400, "a console upgrade must be a version 13 WebSocket handshake\n");
            return;
          }
          LOG.info("console of {}/{}: interactive session for {}", ns, name, user);
          out.write(
              ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      + "Sec-WebSocket-Accept: "
                      + accept.get()
                      + "\r\n\r\n")
                  .getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
          s.setSoTimeout(0); // a console may sit idle for hours
          ConsoleSession.interactive(found.get(), in, out, () -> quietClose(s));
        } else {
          boolean follow = head.flag("follow");
          LOG.info("console of {}/{}: read by {}{}", ns, name, user, follow ? " (follow)" : "");
          out.write(
              ("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                      + "Cache-Control: no-store\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.ISO_8859_1));
          s.setSoTimeout(0);
          ConsoleSession.stream(found.get(), follow, out); // the body ends when the socket does
        }
      }
    }
  }

  /** The {@code Sec-WebSocket-Accept} for a well-formed version 13 handshake. */
  private static Optional<String> handshake(HttpHead head) {
    boolean websocket =
        head.header("upgrade").map(u -> u.equalsIgnoreCase("websocket")).orElse(false);
    boolean connection =
        head.header("connection")
            .map(c -> List.of(c.toLowerCase(Locale.ROOT).split("\\s*,\\s*")).contains("upgrade"))
            .orElse(false);
    Optional<String> key =
        head.header("sec-websocket-key").filter(k -> k.matches("[A-Za-z0-9+/]{22}=="));
    if (!websocket
        || !connection
        || !head.header("sec-websocket-version").orElse("").equals("13")) {
      return Optional.empty();
    }
    return key.map(WebSocket::accept);
  }

  /** Answers 401, 403 or 503 unless {@code access} allows; returns whether it does. */
  private static boolean allowed(OutputStream out, Access access) throws IOException {
    switch (access) {
      case Access.Allowed a -> {
        return true;
      }
      case Access.Unauthenticated u -> {
        respond(
            out,
            401,
            "text/plain; charset=utf-8",
            "Unauthorized: " + u.why() + "\n",
            "WWW-Authenticate: Bearer realm=\"hearth-agent\"");
      }
      case Access.Forbidden f -> {
        LOG.info("refused: {}", f.why());
        text(out, 403, "Forbidden: " + f.why() + "\n");
      }
      case Access.Unavailable u -> {
        LOG.warn("cannot authorize a request: {}", u.why());
        text(out, 503, "cannot check the request with the API server\n");
      }
    }
    return false;
  }

  private static void probe(OutputStream out, List<String> problems) throws IOException {
    if (problems.isEmpty()) {
      text(out, 200, "ok\n");
    } else {
      text(out, 503, String.join("\n", problems) + "\n");
    }
  }

  private static void text(OutputStream out, int status, String body) throws IOException {
    respond(out, status, "text/plain; charset=utf-8", body);
  }

  private static void respond(
      OutputStream out, int status, String contentType, String body, String... extraHeaders)
      throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    StringBuilder h = new StringBuilder();
    h.append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
    h.append("Content-Type: ").append(contentType).append("\r\n");
    h.append("Content-Length: ").append(b.length).append("\r\n");
    h.append("Cache-Control: no-store\r\nConnection: close\r\n");
    for (String x : extraHeaders) {
      h.append(x).append("\r\n");
    }
    h.append("\r\n");
    out.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
    out.write(b);
    out.flush();
  }

  private static String reason(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 431 -> "Request Header Fields Too Large";
      case 503 -> "Service Unavailable";
      default -> "Status";
    };
  }

  private static void quietClose(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // Closing anyway.
    }
  }
}
