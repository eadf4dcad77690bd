package dev.hearth.e2e.system;

import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.net.HostCommands;
import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.agent.runtime.VmStartException;
import dev.hearth.agent.testing.FakeVmRuntime;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Nodes for the control-plane scenarios on a host without KVM: the real agent with its real network
 * (bridge, taps, nftables in a namespace of each node's own), and a VM runtime that boots nothing
 * ({@link FakeVmRuntime}: it records each launch and its live limit updates).
 */
final class FakeNodes {
  private FakeNodes() {}

  /** Fails with a clear message when the host lacks what real networking needs. */
  static void requireNetworkTools() {
    for (List<String> probe : List.of(List.of("ip", "-V"), List.of("nft", "--version"))) {
      try {
        HostCommands.host().run(probe, null);
      } catch (RuntimeException e) {
        throw new IllegalStateException(
            "the e2e control-plane scenarios need iproute2 and nftables (apt-get install iproute2"
                + " nftables): "
                + e.getMessage(),
            e);
      }
    }
  }

  /**
   * Starts a node agent {@code name} with a fake runtime and a real network in subnet {@code
   * subnet}; the core Node of the same name (as the kubelet would register it) carries {@code
   * labels}.
   */
  static AgentNode start(
      HearthSystem system, String name, Path dir, String subnet, Map<String, String> labels)
      throws Exception {
    system.addKubeletNode(name, labels);
    FakeVmRuntime fake = new FakeVmRuntime();
    return system.addNode(
        new AgentNode.Spec(
            name,
            dir,
            Cidr.parse(subnet),
            () -> new WithVsock(fake),
            16,
            16384,
            () -> Optional.of("this node's VM runtime is a fake; it uses no KVM")));
  }

  static FakeVmRuntime fake(AgentNode node) {
    return ((WithVsock) node.runtime()).fake;
  }

  /** The fake VM that runs {@code namespace/name} now (the latest launch of that id). */
  static FakeVmRuntime.FakeVm vm(AgentNode node, String namespace, String name) {
    return fake(node).started.stream()
        .filter(v -> v.launch.id().equals(namespace + "/" + name))
        .reduce((a, b) -> b)
        .orElseThrow(
            () ->
                new AssertionError(
                    "no VM " + namespace + "/" + name + " launched on " + node.name()));
  }

  static long launches(AgentNode node, String namespace, String name) {
    return fake(node).started.stream()
        .filter(v -> v.launch.id().equals(namespace + "/" + name))
        .count();
  }

  /**
   * The fake runtime, also admitting a vsock device (the FakeVmRuntime of the agent's tests does
   * not), so that every example's spec is accepted.
   */
  private record WithVsock(FakeVmRuntime fake) implements VmRuntime {
    @Override
    public Capabilities capabilities() {
      Capabilities c = fake.capabilities();
      return new Capabilities(c.maxVcpus(), c.initrd(), true, c.maxDrives(), c.maxNics());
    }

    @Override
    public RunningVm start(VmLaunch launch) throws VmStartException {
      return fake.start(launch);
    }

    @Override
    public RunningVm restore(java.nio.file.Path dir, VmLaunch launch) throws VmStartException {
      return fake.restore(dir, launch);
    }
  }
}
