package dev.hearth.e2e.system;

import dev.hearth.agent.daemon.AgentDaemon;
import dev.hearth.agent.daemon.AgentSettings;
import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.ipam.Ipam;
import dev.hearth.agent.net.CommandRunner;
import dev.hearth.agent.net.GuestNetwork;
import dev.hearth.agent.net.HostCommands;
import dev.hearth.agent.net.InterfaceNames;
import dev.hearth.agent.net.NodeNetwork;
import dev.hearth.agent.net.TunTapFactory;
import dev.hearth.agent.node.HostProbe;
import dev.hearth.agent.node.NodeRegistration;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.agent.testing.FakeGuestNetwork;
import dev.hearth.api.v1alpha1.HearthApi;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * One node of the system under test: a node agent ({@link AgentDaemon}, the same wiring as {@code
 * hearth agent}) running in this JVM with an API connection, a state directory and a guest network
 * of its own. It can be killed and started again on the same node, as a DaemonSet pod would be.
 */
final class AgentNode implements AutoCloseable {
  /** How the node wires guest interfaces. */
  enum NetworkMode {
    /**
     * The agent's real {@link NodeNetwork}: bridge {@code hearth0}, taps and nftables rules, inside
     * a network namespace of this node's own (needs root, iproute2 and nftables).
     */
    NAMESPACE,
    /**
     * Real IPAM, with taps only recorded ({@link FakeGuestNetwork}): for a host that cannot build
     * the bridge (the nested-KVM machine has no nftables), used where the VMs have no interfaces.
     */
    ADDRESSES_ONLY
  }

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
      NetworkMode network,
      int capacityVcpus,
      long capacityMiB,
      Supplier<Optional<String>> kvmProblem) {}

  private final ApiServer api;
  private final Spec spec;
  private final String netns;
  private final VmRuntime runtime;
  private final Set<String> fakeTaps;
  private KubernetesClient client;
  private AgentDaemon daemon;

  private AgentNode(ApiServer api, Spec spec, String netns, Set<String> fakeTaps) {
    this.api = api;
    this.spec = spec;
    this.netns = netns;
    this.fakeTaps = fakeTaps;
    this.runtime = spec.runtime().get();
  }

  static AgentNode start(ApiServer api, Spec spec) throws Exception {
    String netns = null;
    if (spec.network() == NetworkMode.NAMESPACE) {
      netns = "hth-e2e-" + Integer.toHexString(spec.name().hashCode() ^ (int) System.nanoTime());
      HostCommands.host().run("ip", "netns", "add", netns);
    }
    AgentNode node = new AgentNode(api, spec, netns, new TreeSet<>());
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
    AgentSettings settings =
        new AgentSettings(
            spec.name(),
            spec.stateDir().resolve("state"),
            spec.subnet(),
            "hearth0",
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            HearthApi.DEFAULT_LEASE_NAMESPACE,
            HearthApi.DEFAULT_LEASE_DURATION_SECONDS,
            new NodeRegistration.Reservations(0, 0),
            64L << 20,
            16 * 1024,
            Duration.ofSeconds(2),
            "e2e");
    client = api.newClient();
    daemon =
        AgentDaemon.start(
            settings, client, runtime, this::network, new HostProbe(proc, spec.kvmProblem()));
  }

  private GuestNetwork network(Ipam ipam) {
    if (netns != null) {
      NodeNetwork network =
          new NodeNetwork(
              HostCommands.inNamespace(netns), TunTapFactory.inNamespace(netns), ipam, "hearth0");
      network.setUp();
      return network;
    }
    // The taps a crashed agent left stay "in the kernel" for the next one: carried over here.
    FakeGuestNetwork network = new FakeGuestNetwork(ipam);
    network.taps.addAll(fakeTaps);
    return new GuestNetwork() {
      @Override
      public java.util.List<dev.hearth.agent.net.Attachment> attach(
          String vmUid, java.util.List<NodeNetwork.InterfaceRequest> interfaces) {
        try {
          return network.attach(vmUid, interfaces);
        } finally {
          sync();
        }
      }

      @Override
      public void detach(String vmUid) {
        network.detach(vmUid);
        sync();
      }

      @Override
      public Set<String> reconcile(Set<String> liveOwners) {
        try {
          return network.reconcile(liveOwners);
        } finally {
          sync();
        }
      }

      private void sync() {
        synchronized (fakeTaps) {
          fakeTaps.clear();
          fakeTaps.addAll(network.taps);
        }
      }
    };
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
    if (netns == null) {
      synchronized (fakeTaps) {
        return Set.copyOf(fakeTaps);
      }
    }
    Set<String> out = new TreeSet<>();
    for (String line : commands().run("ip", "-br", "link", "show").split("\n")) {
      String name = line.strip().split("\\s+")[0].replaceAll("@.*", "");
      if (name.startsWith(InterfaceNames.TAP_PREFIX)) {
        out.add(name);
      }
    }
    return out;
  }

  /** What {@code ip -d link show dev <tap>} says in the node's namespace. */
  String linkDetails(String tap) {
    return commands().run("ip", "-d", "link", "show", "dev", tap);
  }

  /** Makes a tap that no VM owns, as a crash between two steps could leave. */
  void leaveOrphanTap(String owner) {
    String tap = InterfaceNames.tapName(owner);
    if (netns == null) {
      synchronized (fakeTaps) {
        fakeTaps.add(tap);
      }
    } else {
      TunTapFactory.inNamespace(netns).create(tap);
    }
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

  /** The VM's console as the agent serves it over HTTP ({@code hearth console}'s source). */
  HttpResponse<String> console(String namespace, String name) throws Exception {
    try (HttpClient http = HttpClient.newHttpClient()) {
      return http.send(
          HttpRequest.newBuilder(
                  URI.create(
                      "http://127.0.0.1:"
                          + daemon.httpPort()
                          + "/vms/"
                          + namespace
                          + "/"
                          + name
                          + "/console"))
              .timeout(Duration.ofSeconds(10))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    }
  }

  private CommandRunner commands() {
    return HostCommands.inNamespace(netns);
  }

  private void deleteNamespace() {
    if (netns != null) {
      try {
        for (String tap : taps()) {
          commands().run("ip", "link", "del", "dev", tap);
        }
        HostCommands.host().run("ip", "netns", "del", netns);
      } catch (RuntimeException e) {
        // Already gone; nothing else to clean.
      }
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
