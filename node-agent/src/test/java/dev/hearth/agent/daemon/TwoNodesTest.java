package dev.hearth.agent.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.net.CommandRunner;
import dev.hearth.agent.net.HostCommands;
import dev.hearth.agent.net.HostTools;
import dev.hearth.agent.net.TunTapFactory;
import dev.hearth.agent.node.HostProbe;
import dev.hearth.agent.node.NodeRegistration;
import dev.hearth.agent.testing.FakeVmRuntime;
import dev.hearth.agent.testing.SharedApiServer;
import dev.hearth.api.v1alpha1.EgressPort;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.NetworkInterfaceSpec;
import dev.hearth.api.v1alpha1.NetworkPolicySpec;
import dev.hearth.api.v1alpha1.PeerRule;
import dev.hearth.vmm.testing.RequiresRoot;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two whole agents, each in a network namespace of its own (a "node"), the two linked by a veth
 * pair as nodes on one L2 segment, against the real API server. Their VMs run on the fake runtime;
 * each VM's guest is a network namespace of its own plugged into its node's bridge with the address
 * the agent gave the VM, so routes, NAT and the firewall are the agents' real ones.
 */
@RequiresRoot
class TwoNodesTest {
  @TempDir Path state;
  private final CommandRunner host = HostCommands.host();
  private final List<String> namespaces = new ArrayList<>();
  private final List<Process> servers = new ArrayList<>();

  @BeforeAll
  static void tools() throws Exception {
    // socat plays the guests' servers and clients; a fresh machine has none.
    HostTools.ensureInstalled();
    HostTools.ensureInstalled(Map.of("socat", "socat"));
  }

  @Test
  void eachNodeRoutesTheOthersGuestsAndTheGuestsReachEachOtherAsTheirPoliciesSay()
      throws Exception {
    KubernetesClient client = SharedApiServer.client();
    String id = SharedApiServer.createNamespace("twonodes");
    String tag = id.substring(id.length() - 6);
    String nodeA = "na-" + id;
    String nodeB = "nb-" + id;
    String nsA = netns("hth-na-" + tag);
    String nsB = netns("hth-nb-" + tag);
    try {
      // The nodes' L2 link.
      host.run("ip", "link", "add", "ua" + tag, "type", "veth", "peer", "name", "ub" + tag);
      up(nsA, "ua" + tag, "192.168.92.1/24");
      up(nsB, "ub" + tag, "192.168.92.2/24");
      try (KubernetesClient agentClient = SharedApiServer.agentClient();
          AgentDaemon a = agent(nodeA, nsA, "10.92.1.0/24", "192.168.92.1", agentClient);
          AgentDaemon b = agent(nodeB, nsB, "10.92.2.0/24", "192.168.92.2", agentClient)) {
        assertThat(a.httpPort()).isNotEqualTo(b.httpPort());
        CommandRunner inA = HostCommands.inNamespace(nsA);
        CommandRunner inB = HostCommands.inNamespace(nsB);
        await()
            .atMost(30, TimeUnit.SECONDS)
            .until(
                () ->
                    inA.run("ip", "-4", "route", "show", "proto", "213")
                            .contains("10.92.2.0/24 via 192.168.92.2")
                        && inB.run("ip", "-4", "route", "show", "proto", "213")
                            .contains("10.92.1.0/24 via 192.168.92.1"));

        // VM a may reach every port of the other nodes' guests; VM b lets node A's guests in on
        // 8080 only.
        vm(
            client,
            id,
            "a",
            nodeA,
            p -> p.setEgress(List.of(new PeerRule("10.92.0.0/16", List.of()))));
        vm(
            client,
            id,
            "b",
            nodeB,
            p -> p.setIngress(List.of(new PeerRule("10.92.1.0/24", List.of(port(8080))))));
        String ipA = awaitIp(client, id, "a");
        String ipB = awaitIp(client, id, "b");
        assertThat(ipA).startsWith("10.92.1.");
        assertThat(ipB).startsWith("10.92.2.");
        String guestA = guest(nsA, "ga" + tag, ipA, "10.92.1.1");
        String guestB = guest(nsB, "gb" + tag, ipB, "10.92.2.1");
        serve(guestB, 8080);
        serve(guestB, 9090);

        // a reaches b across the nodes, and b sees a's own address: routed, not masqueraded.
        await()
            .atMost(20, TimeUnit.SECONDS)
            .ignoreExceptions()
            .until(() -> connect(guestA, ipB, 8080).strip().equals("peer " + ipA));
        // A port b's ingress does not open, though a's egress does.
        assertThatThrownBy(() -> connect(guestA, ipB, 9090));
        // Node A itself, as a pod or node of another node would be: not in b's ingress.
        assertThatThrownBy(() -> connect(nsA, ipB, 8080));
        // The other way round: a opened nothing to b.
        serve(guestA, 8080);
        assertThatThrownBy(() -> connect(guestB, ipA, 8080));
      }
    } finally {
      servers.forEach(
          p -> {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
          });
      for (String ns : namespaces) {
        host.run("ip", "netns", "del", ns);
      }
      client.resources(MicroVMNode.class).withName(nodeA).delete();
      client.resources(MicroVMNode.class).withName(nodeB).delete();
      SharedApiServer.deleteNamespace(id);
    }
  }

  private String netns(String name) {
    host.run("ip", "netns", "add", name);
    namespaces.add(name);
    HostCommands.inNamespace(name).run("ip", "link", "set", "lo", "up");
    return name;
  }

  /** Moves {@code link} into {@code ns}, addresses it and brings it up. */
  private void up(String ns, String link, String address) {
    host.run("ip", "link", "set", link, "netns", ns);
    CommandRunner in = HostCommands.inNamespace(ns);
    in.run("ip", "addr", "add", address, "dev", link);
    in.run("ip", "link", "set", link, "up");
  }

  /** A guest: a namespace on the node's bridge with the VM's address and its gateway. */
  private String guest(String nodeNs, String name, String ip, String gateway) {
    String ns = netns("hth-" + name);
    host.run("ip", "link", "add", name, "type", "veth", "peer", "name", name + "p");
    host.run("ip", "link", "set", name + "p", "netns", nodeNs);
    CommandRunner node = HostCommands.inNamespace(nodeNs);
    node.run("ip", "link", "set", name + "p", "master", "hearth0", "up");
    up(ns, name, ip + "/24");
    HostCommands.inNamespace(ns).run("ip", "route", "add", "default", "via", gateway);
    return ns;
  }

  /** A TCP server in {@code ns} that answers each connection with the peer's address. */
  private void serve(String ns, int port) throws Exception {
    servers.add(
        new ProcessBuilder(
                "ip",
                "netns",
                "exec",
                ns,
                "socat",
                "TCP-LISTEN:" + port + ",fork,reuseaddr",
                "SYSTEM:echo peer $SOCAT_PEERADDR")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start());
    await()
        .atMost(10, TimeUnit.SECONDS)
        .until(() -> HostCommands.inNamespace(ns).run("ss", "-ltn").contains(":" + port + " "));
  }

  /** Connects from {@code ns} and returns what the server says; throws when it cannot. */
  private String connect(String ns, String ip, int port) {
    return HostCommands.inNamespace(ns)
        .run("socat", "-T2", "STDIO", "TCP:" + ip + ":" + port + ",connect-timeout=2");
  }

  private AgentDaemon agent(
      String node, String ns, String subnet, String address, KubernetesClient agentClient)
      throws Exception {
    Path dir = Files.createDirectories(state.resolve(node));
    Files.writeString(dir.resolve("cpuinfo"), "processor : 0\nflags : fpu\n");
    Files.writeString(dir.resolve("meminfo"), "MemTotal: 2097152 kB\n");
    Files.writeString(dir.resolve("vmlinux"), "k");
    AgentSettings settings =
        AgentSettings.builder(node, dir.resolve("state"), dir)
            .subnet(Cidr.parse(subnet))
            .leaseNamespace(SharedApiServer.leaseNamespace())
            .reserved(new NodeRegistration.Reservations(0, 256))
            .imageCacheBytes(1 << 20)
            .consoleBufferBytes(4096)
            .stopGrace(Duration.ofSeconds(1))
            .version("test")
            .nodeAddress(InetAddress.ofLiteral(address))
            .build();
    return AgentDaemon.start(
        settings,
        agentClient,
        new FakeVmRuntime(),
        HostCommands.inNamespace(ns),
        TunTapFactory.inNamespace(ns),
        new HostProbe(dir, () -> Optional.of("no KVM here")));
  }

  private static EgressPort port(int port) {
    return new EgressPort(dev.hearth.api.v1alpha1.EgressProtocol.TCP, port);
  }

  private static void vm(
      KubernetesClient client,
      String ns,
      String name,
      String node,
      Consumer<NetworkPolicySpec> policy) {
    MicroVM vm = new MicroVM();
    vm.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(ns)
            .withName(name)
            .withLabels(Map.of(HearthApi.NODE_LABEL, node))
            .withFinalizers(HearthApi.AGENT_FINALIZER)
            .build());
    MicroVMSpec spec = new MicroVMSpec();
    spec.setKernel(new KernelSpec(ImageSource.ofPath("vmlinux")));
    spec.setNetwork(List.of(new NetworkInterfaceSpec("eth0")));
    NetworkPolicySpec p = new NetworkPolicySpec();
    policy.accept(p);
    spec.setNetworkPolicy(p);
    vm.setSpec(spec);
    client.resource(vm).create();
  }

  private static String awaitIp(KubernetesClient client, String ns, String name) {
    await()
        .atMost(30, TimeUnit.SECONDS)
        .until(
            () -> {
              MicroVM vm = client.resources(MicroVM.class).inNamespace(ns).withName(name).get();
              return vm.getStatus() != null && vm.getStatus().getPhase() == MicroVMPhase.Running;
            });
    return client
        .resources(MicroVM.class)
        .inNamespace(ns)
        .withName(name)
        .get()
        .getStatus()
        .getNetwork()
        .getFirst()
        .getIp();
  }
}
