package dev.hearth.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The probes the chart points at: /healthz at once, /readyz once the informers have synced. */
class OperatorHttpServerTest extends OperatorTestBase {
  private final HttpClient http = HttpClient.newHttpClient();
  private OperatorHttpServer server;

  @AfterEach
  void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  private HttpResponse<String> fetch(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void readyOnlyOnceStartedLiveFromTheBeginning() throws Exception {
    node("n1", 2, 4096);
    registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    operator = new HearthOperator(operatorClient(), config(), clock, registry);
    server = new OperatorHttpServer(0, () -> "# metrics\n", operator::readinessProblems);

    assertThat(fetch("/healthz").statusCode()).isEqualTo(200);
    HttpResponse<String> notYet = fetch("/readyz");
    assertThat(notYet.statusCode()).isEqualTo(503);
    assertThat(notYet.body()).contains("informers have not synced");

    operator.start();
    await().atMost(TIMEOUT).until(() -> fetch("/readyz").statusCode() == 200);
    assertThat(fetch("/metrics").body()).isEqualTo("# metrics\n");
    assertThat(fetch("/nope").statusCode()).isEqualTo(404);
  }
}
