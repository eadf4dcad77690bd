package dev.hearth.agent.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hearth.agent.metrics.AgentMetrics;
import dev.hearth.agent.metrics.VmMeters;
import dev.hearth.agent.testing.ConsoleTenants;
import dev.hearth.agent.tls.CertificatePin;
import dev.hearth.agent.tls.ServingCertificate;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The agent's HTTPS server against the real API server, with the chart's agent token for its
 * TokenReviews and SubjectAccessReviews and the chart's console and metrics ClusterRoles: who may
 * read and type into which VM's console, who may read metrics, and that only the probes are open.
 * Bound to every address, as the chart's agent is on the node's network.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AgentHttpServerTest {
  private ConsoleTenants t;
  private String vm;

  @BeforeAll
  void start() throws Exception {
    t = new ConsoleTenants(new InetSocketAddress("0.0.0.0", 0));
    vm = "/vms/" + t.nsA + "/vm/console";
    byte[] boot = "Linux version 6.1\nlogin: ".getBytes(StandardCharsets.UTF_8);
    t.buffer.write(boot, 0, boot.length);
  }

  @AfterAll
  void stop() {
    t.close();
  }

  @Test
  void aTenantWithConsoleRightsReadsItsVmsConsole() throws Exception {
    HttpResponse<String> r = t.get(vm, t.tokenA);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).startsWith("Linux version 6.1\nlogin: ");
  }

  @Test
  void aTenantTypesIntoItsVmsSerialPortOverAWebSocket() throws Exception {
    Session s = connect(t.tokenA);
    await().atMost(10, TimeUnit.SECONDS).until(() -> s.output().contains("login: "));
    s.ws.sendBinary(ByteBuffer.wrap("root\n".getBytes(StandardCharsets.UTF_8)), true).get();
    ByteArrayOutputStream read = new ByteArrayOutputStream();
    await().atMost(10, TimeUnit.SECONDS).until(() -> t.guestRead(read).equals("root\n"));
    // What the guest prints reaches the session live.
    byte[] shell = "# ".getBytes(StandardCharsets.UTF_8);
    t.buffer.write(shell, 0, shell.length);
    await().atMost(10, TimeUnit.SECONDS).until(() -> s.output().endsWith("login: # "));
    s.ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get();
  }

  @Test
  void anotherNamespacesTenantIsForbidden() throws Exception {
    HttpResponse<String> r = t.get(vm, t.tokenB);
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("may not get microvms/console " + t.nsA + "/vm");
    assertThat(r.body()).doesNotContain("Linux");
    assertThat(handshakeStatus(t.tokenB)).isEqualTo(403);
    // Refused before the agent says whether the VM is here at all.
    assertThat(t.get("/vms/" + t.nsA + "/absent/console", t.tokenB).statusCode()).isEqualTo(403);
  }

  @Test
  void readingDoesNotGrantTyping() throws Exception {
    assertThat(t.get(vm, t.readerToken).statusCode()).isEqualTo(200);
    assertThat(handshakeStatus(t.readerToken)).isEqualTo(403);
  }

  @Test
  void noTokenOrABadOneIsUnauthorized() throws Exception {
    HttpResponse<String> none = t.get(vm, null);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate"))
        .hasValueSatisfying(h -> assertThat(h).startsWith("Bearer"));
    assertThat(none.body()).doesNotContain("Linux");
    assertThat(t.get(vm, "not-a-token").statusCode()).isEqualTo(401);
    assertThat(handshakeStatus(null)).isEqualTo(401);
  }

  @Test
  void metricsNeedATokenAllowedGetOnMetrics() throws Exception {
    t.metrics.phase("ns", "a", "Running");
    assertThat(t.get("/metrics", null).statusCode()).isEqualTo(401);
    assertThat(t.get("/metrics", t.tokenA).statusCode()).isEqualTo(403);
    HttpResponse<String> r = t.get("/metrics", t.scraperToken);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValueSatisfying(c -> assertThat(c).startsWith("text/plain"));
    assertThat(r.body()).contains("hearth_vms{phase=\"Running\"} 1.0");
  }

  @Test
  void aPodOrGuestWithoutATokenReadsNothingFromANodeAddress() throws Exception {
    // A guest or pod reaches the agent at the node's address, never loopback.
    Optional<String> nodeAddress = nonLoopbackAddress();
    String host = nodeAddress.orElse("127.0.0.1");
    assertThat(t.get(host, "/metrics", null).statusCode()).isEqualTo(401);
    assertThat(t.get(host, vm, null).statusCode()).isEqualTo(401);
    assertThat(t.get(host, "/healthz", null).statusCode()).isEqualTo(200);
  }

  @Test
  void plainHttpGetsNoAnswer() throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), t.server.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] answer = in.readNBytes(8);
      assertThat(new String(answer, StandardCharsets.ISO_8859_1)).doesNotStartWith("HTTP/1.1");
    }
  }

  @Test
  void aClientPinningAnotherCertificateRefusesTheServer() throws Exception {
    String other = ServingCertificate.create("someone-else").sha256();
    try (HttpClient c =
        HttpClient.newBuilder().sslContext(new CertificatePin(other).clientContext()).build()) {
      assertThatThrownBy(
              () ->
                  c.send(
                      HttpRequest.newBuilder(
                              URI.create("https://127.0.0.1:" + t.server.port() + "/healthz"))
                          .build(),
                      HttpResponse.BodyHandlers.ofString()))
          .isInstanceOf(SSLHandshakeException.class);
    }
  }

  @Test
  void probesAreOpenAndReportProblemsWith503() throws Exception {
    AtomicReference<Optional<String>> watch = new AtomicReference<>(Optional.of("not synced"));
    t.health.addReadiness("watch", watch::get);
    assertThat(t.get("/healthz", null).statusCode()).isEqualTo(200);
    HttpResponse<String> notReady = t.get("/readyz", null);
    assertThat(notReady.statusCode()).isEqualTo(503);
    assertThat(notReady.body()).isEqualTo("watch: not synced\n");
    watch.set(Optional.empty());
    assertThat(t.get("/readyz", null).statusCode()).isEqualTo(200);
  }

  @Test
  void perVmMetricsAreInPrometheusFormat() throws Exception {
    AgentMetrics.PerVm m = t.metrics.vm("ns", "b");
    m.vcpuExits(0, 42);
    m.blockBytes("rootfs", VmMeters.BlockOp.READ, 4096);
    assertThat(t.get("/metrics", t.scraperToken).body())
        .contains("hearth_vm_vcpu_exits_total{name=\"b\",namespace=\"ns\",vcpu=\"0\"} 42.0")
        .contains(
            "hearth_vm_block_bytes_total{drive=\"rootfs\",name=\"b\",namespace=\"ns\",op=\"read\"} 4096.0");
    m.close();
    t.metrics.forget("ns", "b");
  }

  @Test
  void unknownPathsAndMethodsAreRefused() throws Exception {
    assertThat(t.get("/nope", null).statusCode()).isEqualTo(404);
    try (HttpClient c = t.client()) {
      HttpResponse<String> post =
          c.send(
              HttpRequest.newBuilder(
                      URI.create("https://127.0.0.1:" + t.server.port() + "/healthz"))
                  .POST(HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(post.statusCode()).isEqualTo(405);
    }
  }

  private record Session(WebSocket ws, StringBuffer received) {
    String output() {
      return received.toString();
    }
  }

  private Session connect(String token) throws Exception {
    StringBuffer received = new StringBuffer();
    WebSocket.Listener listener =
        new WebSocket.Listener() {
          @Override
          public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            received.append(StandardCharsets.UTF_8.decode(data));
            ws.request(1);
            return null;
          }
        };
    WebSocket.Builder b = t.client().newWebSocketBuilder();
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    WebSocket ws =
        b.buildAsync(URI.create("wss://127.0.0.1:" + t.server.port() + vm), listener)
            .get(20, TimeUnit.SECONDS);
    return new Session(ws, received);
  }

  private int handshakeStatus(String token) throws Exception {
    try {
      Session s = connect(token);
      s.ws.abort();
      return 101;
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(WebSocketHandshakeException.class);
      return ((WebSocketHandshakeException) e.getCause()).getResponse().statusCode();
    }
  }

  private static Optional<String> nonLoopbackAddress() throws Exception {
    return NetworkInterface.networkInterfaces()
        .filter(
            i -> {
              try {
                return i.isUp() && !i.isLoopback();
              } catch (java.net.SocketException e) {
                return false;
              }
            })
        .flatMap(NetworkInterface::inetAddresses)
        .filter(a -> a instanceof Inet4Address)
        .map(InetAddress::getHostAddress)
        .findFirst();
  }
}
