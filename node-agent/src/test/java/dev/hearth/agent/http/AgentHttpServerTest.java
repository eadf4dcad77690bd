package dev.hearth.agent.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.agent.console.ConsoleBuffer;
import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.metrics.AgentMetrics;
import dev.hearth.agent.metrics.VmMeters;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AgentHttpServerTest {
  private final ConsoleRegistry consoles = new ConsoleRegistry(1024);
  private final AgentMetrics metrics = new AgentMetrics();
  private final HealthChecks health = new HealthChecks();
  private final HttpClient client = HttpClient.newHttpClient();
  private AgentHttpServer server;

  @BeforeEach
  void start() throws Exception {
    server =
        new AgentHttpServer(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                consoles,
                metrics,
                health)
            .start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void consoleReturnsTheRecentTail() throws Exception {
    ConsoleBuffer buf = consoles.open("default", "web-1");
    buf.write("Linux version 6.1\nRun /init\n".getBytes(StandardCharsets.UTF_8), 0, 28);
    HttpResponse<String> r = get("/vms/default/web-1/console");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("Linux version 6.1\nRun /init\n");
    assertThat(get("/vms/default/nope/console").statusCode()).isEqualTo(404);
    assertThat(get("/vms/default/nope/console").body()).contains("no MicroVM default/nope");
  }

  @Test
  void followStreamsNewOutputUntilTheVmIsRemoved() throws Exception {
    ConsoleBuffer buf = consoles.open("ns", "vm");
    buf.write("first\n".getBytes(StandardCharsets.UTF_8), 0, 6);
    HttpResponse<InputStream> r =
        client.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:" + server.port() + "/vms/ns/vm/console?follow=true"))
                .build(),
            HttpResponse.BodyHandlers.ofInputStream());
    InputStream in = r.body();
    assertThat(new String(in.readNBytes(6), StandardCharsets.UTF_8)).isEqualTo("first\n");
    buf.write("second\n".getBytes(StandardCharsets.UTF_8), 0, 7);
    assertThat(new String(in.readNBytes(7), StandardCharsets.UTF_8)).isEqualTo("second\n");
    consoles.remove("ns", "vm");
    assertThat(in.readAllBytes()).isEmpty(); // the stream ends
  }

  @Test
  void metricsAreInPrometheusFormat() throws Exception {
    metrics.phase("ns", "a", "Running");
    metrics.phase("ns", "b", "Running");
    metrics.phase("ns", "c", "Failed");
    metrics.bootTime(Duration.ofMillis(150));
    AgentMetrics.PerVm vm = metrics.vm("ns", "a");
    vm.vcpuExits(0, 42);
    vm.blockBytes("rootfs", VmMeters.BlockOp.READ, 4096);
    vm.netBytes("eth0", VmMeters.NetDirection.TX, 1500);
    vm.throttled("rootfs", "ops", 1);
    HttpResponse<String> r = get("/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    assertThat(r.body())
        .contains("hearth_vms{phase=\"Running\"} 2.0")
        .contains("hearth_vms{phase=\"Failed\"} 1.0")
        .contains("hearth_vms{phase=\"Pending\"} 0.0")
        .contains("hearth_vm_boot_seconds_count 1")
        .contains("hearth_vm_boot_seconds_bucket{le=")
        .contains("hearth_vm_vcpu_exits_total{name=\"a\",namespace=\"ns\",vcpu=\"0\"} 42.0")
        .contains(
            "hearth_vm_block_bytes_total{drive=\"rootfs\",name=\"a\",namespace=\"ns\",op=\"read\"} 4096.0")
        .contains(
            "hearth_vm_net_bytes_total{direction=\"tx\",iface=\"eth0\",name=\"a\",namespace=\"ns\"} 1500.0")
        .contains(
            "hearth_vm_ratelimiter_throttled_total{bucket=\"ops\",device=\"rootfs\",name=\"a\",namespace=\"ns\"} 1.0");

    vm.close();
    metrics.forget("ns", "a");
    assertThat(get("/metrics").body())
        .doesNotContain("hearth_vm_vcpu_exits_total")
        .contains("hearth_vms{phase=\"Running\"} 1.0");
  }

  @Test
  void probesReportProblemsWith503() throws Exception {
    AtomicReference<Optional<String>> watch = new AtomicReference<>(Optional.of("not synced"));
    health.addLiveness("http", Optional::empty);
    health.addReadiness("watch", watch::get);
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
    HttpResponse<String> notReady = get("/readyz");
    assertThat(notReady.statusCode()).isEqualTo(503);
    assertThat(notReady.body()).isEqualTo("watch: not synced\n");
    watch.set(Optional.empty());
    assertThat(get("/readyz").statusCode()).isEqualTo(200);
    health.addLiveness("loop", () -> Optional.of("stuck"));
    assertThat(get("/healthz").statusCode()).isEqualTo(503);
    assertThat(get("/readyz").body()).contains("loop: stuck");
  }

  @Test
  void unknownPathsAndMethodsAreRefused() throws Exception {
    assertThat(get("/nope").statusCode()).isEqualTo(404);
    HttpResponse<String> post =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics"))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
  }
}
