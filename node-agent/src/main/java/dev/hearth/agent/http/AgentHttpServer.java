package dev.hearth.agent.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.hearth.agent.console.ConsoleBuffer;
import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.metrics.AgentMetrics;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agent's HTTP endpoints, on the JDK's server with a virtual thread per request (a console
 * follower waits cheaply):
 *
 * <ul>
 *   <li>{@code GET /vms/<namespace>/<name>/console}: the VM's recent serial output; with {@code
 *       ?follow=true} the response stays open and streams new output until the VM is removed.
 *   <li>{@code GET /metrics}: Prometheus text format.
 *   <li>{@code GET /healthz}, {@code GET /readyz}: 200 "ok", or 503 with one problem per line.
 * </ul>
 */
public final class AgentHttpServer implements AutoCloseable {
  private static final Pattern CONSOLE =
      Pattern.compile(
          "/vms/([a-z0-9]([-a-z0-9]*[a-z0-9])?)/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)/console");
  private static final Duration FOLLOW_POLL = Duration.ofSeconds(5);

  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final ConsoleRegistry consoles;
  private final AgentMetrics metrics;
  private final HealthChecks health;

  public AgentHttpServer(
      InetSocketAddress address,
      ConsoleRegistry consoles,
      AgentMetrics metrics,
      HealthChecks health)
      throws IOException {
    this.consoles = consoles;
    this.metrics = metrics;
    this.health = health;
    this.server = HttpServer.create(address, 64);
    server.createContext("/", this::handle);
    server.setExecutor(executor);
  }

  public AgentHttpServer start() {
    server.start();
    return this;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      if (!ex.getRequestMethod().equals("GET")) {
        ex.getResponseHeaders().set("Allow", "GET");
        text(ex, 405, "only GET is served\n");
        return;
      }
      String path = ex.getRequestURI().getPath();
      switch (path) {
        case "/metrics" -> {
          ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
          send(ex, 200, metrics.scrape());
        }
        case "/healthz" -> probe(ex, health.livenessProblems());
        case "/readyz" -> probe(ex, health.readinessProblems());
        default -> {
          Matcher m = CONSOLE.matcher(path);
          if (m.matches()) {
            console(ex, m.group(1), m.group(3), followRequested(ex));
          } else {
            text(ex, 404, "no such endpoint: " + path + "\n");
          }
        }
      }
    }
  }

  private void console(HttpExchange ex, String namespace, String name, boolean follow)
      throws IOException {
    Optional<ConsoleBuffer> found = consoles.find(namespace, name);
    if (found.isEmpty()) {
      text(ex, 404, "no MicroVM " + namespace + "/" + name + " on this node\n");
      return;
    }
    ConsoleBuffer buffer = found.get();
    ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    ConsoleBuffer.Chunk chunk = buffer.tail();
    if (!follow) {
      ex.sendResponseHeaders(200, chunk.data().length == 0 ? -1 : chunk.data().length);
      ex.getResponseBody().write(chunk.data());
      return;
    }
    ex.sendResponseHeaders(200, 0); // chunked until the VM is removed or the client leaves
    OutputStream out = ex.getResponseBody();
    try {
      while (true) {
        if (chunk.dropped() > 0) {
          out.write(
              ("\n[hearth: " + chunk.dropped() + " console bytes dropped]\n")
                  .getBytes(StandardCharsets.UTF_8));
        }
        out.write(chunk.data());
        out.flush();
        if (chunk.closed()) {
          return;
        }
        chunk = buffer.awaitFrom(chunk.next(), FOLLOW_POLL);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      // The client went away: nothing to report to anyone.
    }
  }

  private static boolean followRequested(HttpExchange ex) {
    String q = ex.getRequestURI().getQuery();
    if (q == null) {
      return false;
    }
    for (String param : q.split("&")) {
      if (param.equals("follow=true") || param.equals("follow=1") || param.equals("follow")) {
        return true;
      }
    }
    return false;
  }

  private static void probe(HttpExchange ex, List<String> problems) throws IOException {
    if (problems.isEmpty()) {
      text(ex, 200, "ok\n");
    } else {
      text(ex, 503, String.join("\n", problems) + "\n");
    }
  }

  private static void text(HttpExchange ex, int status, String body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    send(ex, status, body);
  }

  private static void send(HttpExchange ex, int status, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
    ex.getResponseBody().write(b);
  }
}
