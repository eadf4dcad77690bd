package dev.hearth.agent.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.net.CommandRunner;
import dev.hearth.agent.net.HostCommands;
import dev.hearth.agent.net.TunTapFactory;
import dev.hearth.agent.node.HostProbe;
import dev.hearth.agent.node.NodeRegistration;
import dev.hearth.agent.testing.FakeVmRuntime;
import dev.hearth.agent.testing.SharedApiServer;
import dev.hearth.agent.tls.CertificatePin;
import dev.hearth.api.v1alpha1.ConsoleEndpoint;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.NetworkInterfaceSpec;
import dev.hearth.vmm.testing.RequiresRoot;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole agent (HTTPS, real bridge/taps/nftables in a private network namespace, registration,
 * Lease, reconcile loop) against the real API server with the chart's agent token, and a fake VM
 * runtime.
 */
@RequiresRoot
class AgentDaemonTest {
  @TempDir Path state;

  /** What both tests run with: state under the temp folder, a tiny cache and console. */
  private AgentSettings.Builder settings(String node) {
    return AgentSettings.builder(node, state.resolve("state"), state)
        .leaseNamespace(SharedApiServer.leaseNamespace())
        .reserved(new NodeRegistration.Reservations(0, 256))
        .imageCacheBytes(1 << 20)
        .consoleBufferBytes(4096)
        .stopGrace(Duration.ofSeconds(1))
        .version("test");
  }

  @Test
  void anAgentRegistersServesAndRunsAMicroVm() throws Exception {
    KubernetesClient client = SharedApiServer.client();
    String id = SharedApiServer.createNamespace("daemon");
    String node = "daemon-" + id;
    String netns = "hth-test-" + id;
    CommandRunner host = HostCommands.host();
    host.run("ip", "netns", "add", netns);
    try {
      Files.writeString(state.resolve("cpuinfo"), "processor : 0\nflags : fpu\n");
      Files.writeString(state.resolve("meminfo"), "MemTotal: 2097152 kB\n");
      Path kernel = Files.writeString(state.resolve("vmlinux"), "k");
      AgentSettings settings = settings(node).subnet(Cidr.parse("10.90.0.0/24")).build();
      FakeVmRuntime runtime = new FakeVmRuntime();
      CommandRunner ns = HostCommands.inNamespace(netns);
      try (KubernetesClient agentClient = SharedApiServer.agentClient();
          AgentDaemon daemon =
              AgentDaemon.start(
                  settings,
                  agentClient,
                  runtime,
                  ns,
                  TunTapFactory.inNamespace(netns),
                  new HostProbe(state, () -> Optional.of("no KVM here")))) {
        MicroVMNode registered = client.resources(MicroVMNode.class).withName(node).get();
        assertThat(registered.getStatus().getAllocatable().getMemoryMiB()).isEqualTo(1792);
        assertThat(registered.getStatus().getKvm().getPresent()).isFalse();
        Lease lease =
            client
                .resources(Lease.class)
                .inNamespace(SharedApiServer.leaseNamespace())
                .withName(HearthApi.leaseName(node))
                .get();
        assertThat(lease.getSpec().getHolderIdentity()).isEqualTo(node);

        MicroVM vm = new MicroVM();
        vm.setMetadata(
            new ObjectMetaBuilder()
                .withNamespace(id)
                .withName("vm")
                .withLabels(Map.of(HearthApi.NODE_LABEL, node))
                .withFinalizers(HearthApi.AGENT_FINALIZER)
                .build());
        MicroVMSpec spec = new MicroVMSpec();
        spec.setKernel(new KernelSpec(ImageSource.ofPath(state.relativize(kernel).toString())));
        spec.setNetwork(List.of(new NetworkInterfaceSpec("eth0")));
        vm.setSpec(spec);
        client.resource(vm).create();
        await().atMost(30, TimeUnit.SECONDS).until(() -> phase(client, id) == MicroVMPhase.Running);
        String tap =
            client
                .resources(MicroVM.class)
                .inNamespace(id)
                .withName("vm")
                .get()
                .getStatus()
                .getNetwork()
                .getFirst()
                .getTap();
        assertThat(ns.run("ip", "-d", "link", "show", "dev", tap)).contains("master hearth0");
        // The running VM's status says where its console is served and which certificate the
        // server there presents: a client pinning it gets the agent's answer.
        ConsoleEndpoint console =
            client
                .resources(MicroVM.class)
                .inNamespace(id)
                .withName("vm")
                .get()
                .getStatus()
                .getConsole();
        assertThat(console.getUrl()).isEqualTo("https://127.0.0.1:" + daemon.httpPort());
        assertThat(get(console, "/readyz").statusCode()).isEqualTo(200);
        assertThat(get(console, "/vms/" + id + "/vm/console").statusCode()).isEqualTo(401);
        assertThat(daemon.context().consoles().find(id, "vm").orElseThrow().tail().data())
            .asString()
            .isEqualTo("booting " + id + "/vm\n");
        assertThat(daemon.context().metrics().scrape())
            .contains("hearth_vms{phase=\"Running\"} 1.0");

        daemon.stop("the node agent received SIGTERM");
        assertThat(runtime.running()).isZero();
        assertThat(phase(client, id)).isEqualTo(MicroVMPhase.Scheduled);
        // Nothing of Hearth stays on the node: the next start makes it all again.
        assertThat(ns.run("ip", "-br", "link", "show")).doesNotContain("hearth0", tap);
        assertThat(ns.run("nft", "list", "tables")).doesNotContain("hearth");
      }
    } finally {
      host.run("ip", "netns", "del", netns);
      client.resources(MicroVMNode.class).withName(node).delete();
      SharedApiServer.deleteNamespace(id);
    }
  }

  @Test
  void anAgentWithoutASubnetWaitsForTheOneAllocatedToItsNode() throws Exception {
    KubernetesClient client = SharedApiServer.client();
    String id = SharedApiServer.createNamespace("daemon");
    String node = "daemon-" + id;
    String netns = "hth-test-" + id;
    CommandRunner host = HostCommands.host();
    host.run("ip", "netns", "add", netns);
    try {
      Files.writeString(state.resolve("cpuinfo"), "processor : 0\nflags : fpu\n");
      Files.writeString(state.resolve("meminfo"), "MemTotal: 2097152 kB\n");
      AgentSettings settings = settings(node).build(); // no subnet: the node's, from the operator
      CommandRunner ns = HostCommands.inNamespace(netns);
      // What the operator does once the node registers: allocate its subnet, in spec.
      Thread operator =
          Thread.ofVirtual()
              .start(
                  () -> {
                    await()
                        .atMost(30, TimeUnit.SECONDS)
                        .until(
                            () -> client.resources(MicroVMNode.class).withName(node).get() != null);
                    client
                        .resources(MicroVMNode.class)
                        .withName(node)
                        .patch(
                            PatchContext.of(PatchType.JSON_MERGE),
                            "{\"spec\":{\"subnet\":\"10.91.4.0/24\"}}");
                  });
      try (KubernetesClient agentClient = SharedApiServer.agentClient();
          AgentDaemon daemon =
              AgentDaemon.start(
                  settings,
                  agentClient,
                  new FakeVmRuntime(),
                  ns,
                  TunTapFactory.inNamespace(netns),
                  new HostProbe(state, () -> Optional.of("no KVM here")))) {
        operator.join();
        ConsoleEndpoint served =
            new ConsoleEndpoint(
                "https://127.0.0.1:" + daemon.httpPort(),
                dev.hearth.agent.tls.ServingCertificate.loadOrCreate(
                        state.resolve("state").resolve("pki").resolve("serving.p12"), node)
                    .sha256());
        assertThat(get(served, "/readyz").statusCode()).isEqualTo(200);
        MicroVMNode registered = client.resources(MicroVMNode.class).withName(node).get();
        assertThat(registered.getStatus().getSubnet()).isEqualTo("10.91.4.0/24");
        assertThat(ns.run("ip", "-4", "addr", "show", "dev", "hearth0")).contains("10.91.4.1/24");
      }
    } finally {
      host.run("ip", "netns", "del", netns);
      client.resources(MicroVMNode.class).withName(node).delete();
      SharedApiServer.deleteNamespace(id);
    }
  }

  private static MicroVMPhase phase(KubernetesClient client, String ns) {
    MicroVM vm = client.resources(MicroVM.class).inNamespace(ns).withName("vm").get();
    return vm.getStatus() == null ? null : vm.getStatus().getPhase();
  }

  private static HttpResponse<String> get(ConsoleEndpoint at, String path) throws Exception {
    try (HttpClient c =
        HttpClient.newBuilder()
            .sslContext(new CertificatePin(at.getCertificateSha256()).clientContext())
            .build()) {
      return c.send(
          HttpRequest.newBuilder(URI.create(at.getUrl() + path)).build(),
          HttpResponse.BodyHandlers.ofString());
    }
  }
}
