package dev.hearth.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hearth.agent.auth.KubeAuthorizer;
import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.http.AgentHttpServer;
import dev.hearth.agent.http.HealthChecks;
import dev.hearth.agent.metrics.AgentMetrics;
import dev.hearth.agent.node.FdBudget;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.agent.spec.SpecMapper;
import dev.hearth.agent.spec.SpecRejectedException;
import dev.hearth.agent.testing.ConsoleTenants;
import dev.hearth.agent.testing.Loopback;
import dev.hearth.agent.testing.SharedApiServer;
import dev.hearth.agent.testing.TestAgentContext;
import dev.hearth.agent.tls.CertificatePin;
import dev.hearth.agent.tls.ServingCertificate;
import dev.hearth.api.v1alpha1.DriveSpec;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.RestartPolicy;
import dev.hearth.vmm.testing.BuiltGuests;
import dev.hearth.vmm.testing.KvmResources;
import dev.hearth.vmm.testing.RequiresKvm;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent with the real embedded VMM on /dev/kvm, against the real API server with the chart's
 * agent token ({@link SharedApiServer}): tiny guests from the vmm module's test build, booted from
 * MicroVMs.
 */
@RequiresKvm
class AgentKvmIT {
  private static KubernetesClient client;

  @TempDir Path state;
  private String ns;
  private String node;
  private KubernetesClient agentClient;
  private final ConsoleRegistry consoles = new ConsoleRegistry(16 * 1024);
  private final AgentMetrics metrics = new AgentMetrics();
  private NodeAgent agent;

  @BeforeAll
  static void apiServer() throws Exception {
    // The API server listens on loopback, which nothing may have brought up inside L1.
    Loopback.up();
    client = SharedApiServer.client();
  }

  @BeforeEach
  void start() throws Exception {
    ns = SharedApiServer.createNamespace("kvm");
    node = "node-" + ns;
    agentClient = SharedApiServer.agentClient();
    AgentContext ctx =
        TestAgentContext.of(node, agentClient, state)
            .runtime(new VmmRuntime())
            .guestCidr("10.89.0.0/24")
            // The guests and the test's disks live in different folders: the root is "/".
            .imagesRoot(Path.of("/"))
            .consoles(consoles)
            .metrics(metrics)
            .stopGrace(Duration.ofSeconds(2))
            .fds(FdBudget.ofThisProcess())
            .build();
    agent = new NodeAgent(ctx);
    agent.start(Duration.ofSeconds(30));
  }

  @AfterEach
  void stop() {
    agent.close();
    agentClient.close();
    SharedApiServer.deleteNamespace(ns);
  }

  /** {@code file}'s image path under the images root "/". */
  private static String underRoot(Path file) {
    return Path.of("/").relativize(file.toAbsolutePath()).toString();
  }

  private static Path guest(String name) {
    return BuiltGuests.elf(name).toAbsolutePath();
  }

  private void create(String name, String guest, UnaryOperator<MicroVMSpec> customize) {
    MicroVMSpec spec = new MicroVMSpec();
    spec.setKernel(new KernelSpec(ImageSource.ofPath(underRoot(guest(guest)))));
    spec.setMemoryMiB(16);
    MicroVM vm = new MicroVM();
    vm.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(ns)
            .withName(name)
            .withLabels(Map.of(HearthApi.NODE_LABEL, node))
            .withFinalizers(HearthApi.AGENT_FINALIZER)
            .build());
    vm.setSpec(customize.apply(spec));
    client.resource(vm).create();
  }

  private MicroVM get(String name) {
    return client.resources(MicroVM.class).inNamespace(ns).withName(name).get();
  }

  private void awaitPhase(String name, MicroVMPhase phase) {
    await()
        .atMost(60, TimeUnit.SECONDS)
        .until(() -> get(name).getStatus() != null && get(name).getStatus().getPhase() == phase);
  }

  @Test
  void bootsAGuestReportsRunningAndDeletionLeavesNoThreadOrFd() throws Exception {
    long fdsBefore = KvmResources.kvmFds();
    create("ticker", "ticker", s -> s);
    awaitPhase("ticker", MicroVMPhase.Running);
    await()
        .atMost(60, TimeUnit.SECONDS)
        .until(
            () ->
                new String(
                        consoles.find(ns, "ticker").orElseThrow().tail().data(),
                        StandardCharsets.UTF_8)
                    .contains("tick 1\n"));
    assertThat(KvmResources.vcpuThreads()).isEqualTo(1);
    assertThat(KvmResources.kvmFds()).isGreaterThan(fdsBefore);
    // The VMM's counters reach the VM's metrics while it runs (the ticker's serial output exits).
    await()
        .atMost(30, TimeUnit.SECONDS)
        .until(
            () ->
                metrics
                    .scrape()
                    .lines()
                    .anyMatch(
                        l ->
                            l.startsWith("hearth_vm_vcpu_exits_total{")
                                && l.contains("name=\"ticker\"")
                                && !l.endsWith(" 0.0")));

    client.resources(MicroVM.class).inNamespace(ns).withName("ticker").delete();
    await().atMost(60, TimeUnit.SECONDS).until(() -> get("ticker") == null);
    await().atMost(10, TimeUnit.SECONDS).until(() -> KvmResources.vcpuThreads() == 0);
    await().atMost(10, TimeUnit.SECONDS).until(() -> KvmResources.kvmFds() == fdsBefore);
    assertThat(agent.runningVms()).isEmpty();
  }

  @Test
  void aTenantTypesIntoARunningGuestThroughTheAgentsHttpsConsole() throws Exception {
    // The echo guest prints "echo ready", echoes one line it reads from its UART, then resets.
    create(
        "echo",
        "echo",
        s -> {
          s.setRestartPolicy(RestartPolicy.Never);
          return s;
        });
    awaitPhase("echo", MicroVMPhase.Running);
    String token = ConsoleTenants.consoleTenant(ns, "tenant");
    ServingCertificate cert = ServingCertificate.create("agent-kvm-it");
    StringBuffer seen = new StringBuffer();
    HttpClient http =
        HttpClient.newBuilder()
            .sslContext(new CertificatePin(cert.sha256()).clientContext())
            .build();
    try (AgentHttpServer server =
        new AgentHttpServer(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                cert.serverContext(),
                new KubeAuthorizer(agentClient),
                consoles,
                metrics,
                new HealthChecks())
            .start()) {
      WebSocket ws =
          http.newWebSocketBuilder()
              .header("Authorization", "Bearer " + token)
              .buildAsync(
                  URI.create("wss://127.0.0.1:" + server.port() + "/vms/" + ns + "/echo/console"),
                  new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
                      seen.append(StandardCharsets.UTF_8.decode(data));
                      w.request(1);
                      return null;
                    }
                  })
              .get(30, TimeUnit.SECONDS);
      await().atMost(60, TimeUnit.SECONDS).until(() -> seen.toString().contains("echo ready\n"));
      ws.sendBinary(ByteBuffer.wrap("ping from a tenant\n".getBytes(StandardCharsets.UTF_8)), true)
          .get(30, TimeUnit.SECONDS);
      await()
          .atMost(60, TimeUnit.SECONDS)
          .until(() -> seen.toString().contains("echo: ping from a tenant\n"));
      awaitPhase("echo", MicroVMPhase.Succeeded);
      ws.abort();
    } finally {
      http.shutdownNow(); // close() would wait for the WebSocket
    }
  }

  @Test
  void aGuestThatEndsIsReportedWithItsBootTimeAndExitReason() {
    create(
        "probe",
        "probe",
        s -> {
          s.setRestartPolicy(RestartPolicy.Never);
          return s;
        });
    awaitPhase("probe", MicroVMPhase.Succeeded);
    MicroVM vm = get("probe");
    assertThat(vm.getStatus().getExit().getReason()).isEqualTo("Reset");
    assertThat(vm.getStatus().getBootTimeMillis()).isNotNull();
    assertThat(
            new String(
                consoles.find(ns, "probe").orElseThrow().tail().data(), StandardCharsets.UTF_8))
        .contains("boot timer signalled");
  }

  @Test
  void aDriveFromTheSpecReachesTheGuestThroughVirtioBlk() throws Exception {
    byte[] image = new byte[64 * 512];
    byte[] text = "HEARTH-AGENT-DISK".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(text, 0, image, 0, text.length);
    Path disk = Files.write(state.resolve("data.img"), image);
    create(
        "drive",
        "virtio",
        s -> {
          DriveSpec d = new DriveSpec("data", ImageSource.ofPath(underRoot(disk)));
          d.setReadOnly(true);
          d.setSerial("agent-7");
          s.setDrives(List.of(d));
          s.setRestartPolicy(RestartPolicy.Never);
          return s;
        });
    awaitPhase("drive", MicroVMPhase.Succeeded);
    assertThat(
            new String(
                consoles.find(ns, "drive").orElseThrow().tail().data(), StandardCharsets.UTF_8))
        .contains("blk: read sector 0 status 0 text 'HEARTH-AGENT-DISK'")
        .contains("blk: write sector 1 status 1\n") // read-only: the write fails
        .contains("blk: id status 0 serial 'agent-7'");
  }

  @Test
  void aSpecTheVmmCannotRunIsRefusedByTheServerAndWouldBeByTheAgent() {
    // One disk more than the embedded VMM attaches.
    List<DriveSpec> drives = new ArrayList<>();
    for (int i = 0; i <= new VmmRuntime().capabilities().maxDrives(); i++) {
      drives.add(new DriveSpec("d" + i, ImageSource.ofPath(underRoot(guest("ticker")))));
    }
    // The CRD refuses it at admission, naming the field...
    assertThatThrownBy(
            () ->
                create(
                    "disk",
                    "ticker",
                    s -> {
                      s.setDrives(drives);
                      return s;
                    }))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("spec.drives");
    // ...and the agent, which must not trust a cluster whose CRD is older, would refuse it too
    // (its UnsupportedSpec condition comes from this exception).
    MicroVMSpec spec = new MicroVMSpec();
    spec.setKernel(new KernelSpec(ImageSource.ofPath(underRoot(guest("ticker")))));
    spec.setDrives(drives);
    assertThatThrownBy(() -> new SpecMapper(new VmmRuntime().capabilities()).map(spec))
        .isInstanceOfSatisfying(
            SpecRejectedException.class, e -> assertThat(e.reason()).isEqualTo("UnsupportedSpec"));
  }
}
