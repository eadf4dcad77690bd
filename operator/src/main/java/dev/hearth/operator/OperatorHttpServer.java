package dev.hearth.operator;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;

/**
 * The operator's one HTTP port (the chart's {@code operator.httpPort}):
 *
 * <ul>
 *   <li>{@code /metrics}: Prometheus text format.
 *   <li>{@code /healthz} (liveness): 200 while the process serves HTTP at all.
 *   <li>{@code /readyz} (readiness): 200 once the informers have synced and every event source is
 *       healthy, on the leader and on a standby replica alike (a standby keeps its caches warm so
 *       that it can take over at once, and a rollout of two replicas must complete); 503 with one
 *       problem per line before that.
 * </ul>
 */
public final class OperatorHttpServer implements AutoCloseable {
  private final HttpServer server;

  /**
   * Serves on {@code port} (0: any free port) until closed.
   *
   * @param metrics the Prometheus scrape
   * @param readinessProblems what keeps the operator from being ready; empty when ready
   */
  public OperatorHttpServer(
      int port, Supplier<String> metrics, Supplier<List<String>> readinessProblems)
      throws IOException {
    server = HttpServer.create(new InetSocketAddress(port), 0);
    server.createContext(
        "/",
        ex -> {
          try (ex) {
            String path = ex.getRequestURI().getPath();
            switch (path) {
              case "/metrics" ->
                  send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.get());
              case "/healthz" -> send(ex, 200, "text/plain; charset=utf-8", "ok\n");
              case "/readyz" -> {
                List<String> problems = readinessProblems.get();
                send(
                    ex,
                    problems.isEmpty() ? 200 : 503,
                    "text/plain; charset=utf-8",
                    problems.isEmpty() ? "ok\n" : String.join("\n", problems) + "\n");
              }
              default ->
                  send(ex, 404, "text/plain; charset=utf-8", "no such endpoint: " + path + "\n");
            }
          }
        });
    server.setExecutor(null);
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }

  private static void send(HttpExchange ex, int status, String type, String body)
      throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
    }
  }
}
