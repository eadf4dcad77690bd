package dev.hearth.e2e.system;

import static org.awaitility.Awaitility.await;

import dev.hearth.agent.daemon.AgentDaemon;
import dev.hearth.agent.daemon.AgentSettings;
import dev.hearth.agent.image.Destinations;
import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.ipam.Ipam;
import dev.hearth.agent.net.CommandRunner;
import dev.hearth.agent.net.GuestNetwork;
import dev.hearth.agent.net.HostCommands;
import dev.hearth.agent.net.InterfaceNames;
import dev.hearth.agent.net.NetNamespace;
import dev.hearth.agent.net.NodeNetwork;
import dev.hearth.agent.net.TunTapFactory;
import dev.hearth.agent.node.HostProbe;
import dev.hearth.agent.probe.ReadinessProber;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.e2e.ConsoleAccess;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.awaitility.core.ConditionTimeoutException;

/**
 * One node of the system under test: a node agent ({@link AgentDaemon}, the same wiring as {@code
 * hearth agent}) running in this JVM with an API connection, a state directory and a guest network
 * of its own: the agent's real {@link NodeNetwork} (bridge {@code hearth0}, taps, IPAM, nftables
 * rules) inside a network namespace of this node's own, which needs root, iproute2 and nftables.
 * VMs start inside that namespace too ({@link InNamespaceRuntime}), so the VMM attaches to the
 * agent's taps. It can be killed and started again on the same node, as a DaemonSet pod would be.
 */
final class AgentNode implements AutoCloseable {

  /**
   * @param capacityVcpus, capacityMiB what the node reports (a fixed size, so placement does not
   *     depend on the machine the test runs on)
   * @param kvmProblem empty where the node's runtime uses KVM, else why not
   */
  record Spec(
      String name,
      Path stateDir,
      Cidr subnet,
      Supplier<VmRuntime> runtime,
      int capacityVcpus,
      long capacityMiB,
      Supplier<Optional<String>> kvmProblem,
      java.util.function.UnaryOperator<AgentSettings.Builder> tune) {

    /** A node with the suites' usual settings. */
    Spec(
        String name,
        Path stateDir,
        Cidr subnet,
        Supplier<VmRuntime> runtime,
        int capacityVcpus,
        long capacityMiB,
        Supplier<Optional<String>> kvmProblem) {
      this(name, stateDir, subnet, runtime, capacityVcpus, capacityMiB, kvmProblem, s -> s);
    }
  }

  private final ApiServer api;
  private final Spec spec;
  private final String netns;
  private final VmRuntime runtime;
  private final Supplier<KubernetesClient> clients;
  private final int leaseSeconds;
  private KubernetesClient client;
  private AgentDaemon daemon;

  private AgentNode(
      ApiServer api,
      Spec spec,
      String netns,
      Supplier<KubernetesClient> clients,
      int leaseSeconds) {
    this.api = api;
    this.spec = spec;
    this.netns = netns;
    this.runtime = spec.runtime().get();
    this.clients = clients;
    this.leaseSeconds = leaseSeconds;
  }

  static AgentNode start(ApiServer api, Spec spec) throws Exception {
    return start(api, spec, api::agentClient, HearthApi.DEFAULT_LEASE_DURATION_SECONDS);
  }

  /**
   * A node whose agent connects through {@code clients} (a new connection as the chart's agent
   * account each time it starts) and renews a node Lease of {@code leaseSeconds}.
   */
  static AgentNode start(
      ApiServer api, Spec spec, Supplier<KubernetesClient> clients, int leaseSeconds)
      throws Exception {
    String netns =
        "hth-e2e-" + Integer.toHexString(spec.name().hashCode() ^ (int) System.nanoTime());
    HostCommands.host().run("ip", "netns", "add", netns);
    AgentNode node = new AgentNode(api, spec, netns, clients, leaseSeconds);
    try {
      node.boot();
    } catch (Exception | Error e) {
      node.deleteNamespace();
      throw e;
    }
    return node;
  }

  private void boot() throws Exception {
    Path proc = spec.stateDir().resolve("proc");
    Files.createDirectories(proc);
    StringBuilder cpuinfo = new StringBuilder();
    for (int i = 0; i < spec.capacityVcpus(); i++) {
      cpuinfo.append("processor : ").append(i).append("\nflags : fpu\n\n");
    }
    Files.writeString(proc.resolve("cpuinfo"), cpuinfo);
    Files.writeString(proc.resolve("meminfo"), "MemTotal: " + spec.capacityMiB() * 1024 + " kB\n");
    AgentSettings.Builder builder =
        AgentSettings.builder(
                spec.name(),
                spec.stateDir().resolve("state"),
                // The suites' images live in several temp folders: the images root is "/", and
                // Manifests.underRoot names files relative to it (confinement: NodeImagesTest).
                Path.of("/"))
            .subnet(spec.subnet())
            .leaseNamespace(api.releaseNamespace())
            .leaseDurationSeconds(leaseSeconds)
            .imageCacheBytes(64L << 20)
            .imageDestinations(Destinations.ANY) // ImageServer is on loopback
            .consoleBufferBytes(16 * 1024)
            .stopGrace(Duration.ofSeconds(2))
            .version("e2e");
    AgentSettings settings = spec.tune().apply(builder).build();
    client = clients.get();
    daemon =
        AgentDaemon.start(
            settings,
            client,
            new InNamespaceRuntime(runtime, netns),
            this::network,
            new HostProbe(proc, spec.kvmProblem()),
            // The guests live in the node's namespace, as on a node the agent's own process does.
            (address, timeout) ->
                NetNamespace.call(
                    NetNamespace.named(netns),
                    () -> {
                      ReadinessProber.TCP.connect(address, timeout);
                      return null;
                    }));
  }

  private GuestNetwork network(Ipam ipam) {
    NodeNetwork network =
        new NodeNetwork(
            HostCommands.inNamespace(netns), TunTapFactory.inNamespace(netns), ipam, "hearth0");
    network.setUp();
    return network;
  }

  String name() {
    return spec.name();
  }

  AgentDaemon daemon() {
    return daemon;
  }

  VmRuntime runtime() {
    return runtime;
  }

  /**
   * Kills the agent. Its API connection is cut first, so nothing it does from then on reaches the
   * API server (no status, no Event, no finalizer removal, no Lease renewal); then its threads and
   * VMs end. What a crash leaves stays: taps, addresses, disk copies, state files.
   */
  void kill() {
    client.close();
    daemon.stop("killed");
  }

  /** A new agent process on the same node: same state directory, same network namespace. */
  void restart() throws Exception {
    boot();
  }

  /** The Hearth taps on this node right now. */
  Set<String> taps() {
    Set<String> out = new TreeSet<>();
    for (String line : commands().run("ip", "-br", "link", "show").split("\n")) {
      String name = line.strip().split("\\s+")[0].replaceAll("@.*", "");
      if (name.startsWith(InterfaceNames.TAP_PREFIX)) {
        out.add(name);
      }
    }
    return out;
  }

  /**
   * Whether {@code ip} answers an ICMP echo sent from the node's namespace within a second ({@link
   * InetAddress#isReachable}, which sends ICMP as root).
   */
  boolean reachable(String ip) {
    return NetNamespace.call(
        NetNamespace.named(netns), () -> InetAddress.getByName(ip).isReachable(1000));
  }

  /** What {@code ip -d link show dev <tap>} says in the node's namespace. */
  String linkDetails(String tap) {
    return commands().run("ip", "-d", "link", "show", "dev", tap);
  }

  /** Makes a tap that no VM owns, as a crash between two steps could leave. */
  void leaveOrphanTap(String owner) {
    TunTapFactory.inNamespace(netns).create(InterfaceNames.tapName(owner));
  }

  /** The node's IPAM as persisted on disk (what the next agent would start from). */
  Map<String, java.net.Inet4Address> addresses() {
    return new Ipam(spec.subnet(), spec.stateDir().resolve("state").resolve("ipam")).allocations();
  }

  /** The per-VM working directories ({@code state/vms/<uid>}) on disk. */
  Set<String> vmDirectories() {
    Path vms = spec.stateDir().resolve("state").resolve("vms");
    if (!Files.isDirectory(vms)) {
      return Set.of();
    }
    try (var list = Files.list(vms)) {
      Set<String> out = new TreeSet<>();
      list.forEach(p -> out.add(p.getFileName().toString()));
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The VM's console as the agent serves it over HTTPS ({@code hearth console}'s source), read with
   * a console tenant's token of the VM's namespace.
   */
  HttpResponse<String> console(String namespace, String name) throws Exception {
    return ConsoleAccess.read(
        api.plane(), daemon.context().consoles().endpoint().orElseThrow(), namespace, name);
  }

  /**
   * Waits, at most {@link HearthSystem#PATIENCE}, for {@code text} on the VM's {@link #console}; on
   * a timeout, says what the console held.
   */
  void awaitConsole(String namespace, String name, String text) {
    String[] last = {""};
    try {
      await()
          .atMost(HearthSystem.PATIENCE)
          .pollInterval(Duration.ofMillis(500))
          .until(
              () -> {
                last[0] = console(namespace, name).body();
                return last[0].contains(text);
              });
    } catch (ConditionTimeoutException e) {
      String held = last[0];
      throw new AssertionError(
          "no "
              + text
              + " on the console of "
              + namespace
              + "/"
              + name
              + " within "
              + HearthSystem.PATIENCE
              + " (VM status: "
              + statusOf(namespace, name)
              + "); it ended with:\n"
              + held.substring(Math.max(0, held.length() - 4096)),
          e);
    }
  }

  /** The VM's status as JSON, for a failure's message: whether it ran, exited or restarted. */
  private String statusOf(String namespace, String name) {
    try {
      MicroVM vm = client.resources(MicroVM.class).inNamespace(namespace).withName(name).get();
      return vm == null ? "no such VM" : Serialization.asJson(vm.getStatus());
    } catch (RuntimeException e) {
      return "unreadable: " + e;
    }
  }

  /** Runs iproute2 and nftables in the node's network namespace. */
  CommandRunner commands() {
    return HostCommands.inNamespace(netns);
  }

  /** The node's network namespace, for {@link NetNamespace#call}. */
  Path netnsFile() {
    return NetNamespace.named(netns);
  }

  private void deleteNamespace() {
    try {
      for (String tap : taps()) {
        commands().run("ip", "link", "del", "dev", tap);
      }
      HostCommands.host().run("ip", "netns", "del", netns);
    } catch (RuntimeException e) {
      // Already gone; nothing else to clean.
    }
  }

  /** Stops the agent (VMs stop cleanly) and removes the node's network namespace. */
  @Override
  public void close() {
    try {
      if (daemon != null) {
        daemon.close();
      }
      if (client != null) {
        client.close();
      }
    } finally {
      deleteNamespace();
    }
  }
}
