package dev.hearth.e2e.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.agent.daemon.AgentDaemon;
import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.agent.runtime.VmStartException;
import dev.hearth.agent.testing.FakeVmRuntime;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fencing on the real API server: node A's agent reaches the API server only through a proxy the
 * test cuts, silently, as a partition does; the operator (real reconcilers) and node B's agent stay
 * connected. A's agent must stop its VM once its Lease has gone unrenewed for the lease duration,
 * before the operator's grace period on top of that lets it move the VM to B; so the VM's run on A
 * ends before its run on B begins, and it never runs on both at once.
 *
 * <p>Timings as the chart relates them, shortened: a 4 s Lease (renewed every 1 s, the fence
 * checked every {@link AgentDaemon#FENCE_CHECK}) and an 8 s node-loss grace period.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FencingIT {
  private static final int LEASE_SECONDS = 4;
  private static final Duration GRACE = Duration.ofSeconds(8);

  /** One VM run on one node: when it started and when it ended (null while it runs). */
  record Run(String node, String vm, Instant start, Instant[] end) {}

  private final List<Run> runs = new CopyOnWriteArrayList<>();
  private HearthSystem system;
  private ImageServer images;
  private CuttableProxy proxy;

  @BeforeAll
  void start() throws Exception {
    FakeNodes.requireNetworkTools();
    ApiServer api = ApiServer.start();
    system = HearthSystem.start(api, GRACE);
    images = new ImageServer();
  }

  @AfterAll
  void stop() throws Exception {
    try {
      system.close();
    } finally {
      images.close();
      if (proxy != null) {
        proxy.close();
      }
    }
  }

  @Test
  void aCutOffAgentStopsItsVmBeforeTheOperatorMovesIt(@TempDir Path dir) throws Exception {
    ImageSource kernel = images.publish(Files.writeString(dir.resolve("vmlinux"), "a kernel"));
    proxy = new CuttableProxy(java.net.URI.create(system.client().getMasterUrl().toString()));
    AgentNode a = node("fence-a", dir.resolve("a"), "10.95.0.0/24", true);
    String ns = system.namespace("fence");
    system.apply(Manifests.vm(ns, "vm", kernel, s -> s)); // restartPolicy Always
    MicroVM onA = system.awaitPhase(ns, "vm", MicroVMPhase.Running);
    assertThat(onA.getStatus().getNodeName()).isEqualTo(a.name());
    node("fence-b", dir.resolve("b"), "10.96.0.0/24", false);

    Instant cut = Instant.now();
    proxy.cut();

    MicroVM onB =
        system.await(
            ns,
            "vm",
            vm ->
                "fence-b".equals(vm.getStatus().getNodeName())
                    && vm.getStatus().getPhase() == MicroVMPhase.Running);
    Run runA = runs.stream().filter(r -> r.node().equals("fence-a")).findFirst().orElseThrow();
    Run runB = runs.stream().filter(r -> r.node().equals("fence-b")).findFirst().orElseThrow();
    assertThat(runA.end()[0])
        .as(
            "A's run of the VM, still going when B's began %d ms after the cut",
            Duration.between(cut, runB.start()).toMillis())
        .isNotNull();
    System.err.printf(
        "fencing: cut at 0 ms; A's run ended at %d ms; B's run began at %d ms%n",
        Duration.between(cut, runA.end()[0]).toMillis(),
        Duration.between(cut, runB.start()).toMillis());
    assertThat(runA.end()[0]).as("A stopped the VM before B started it").isBefore(runB.start());
    // The fence came at about the lease duration, not at the client's timeouts.
    assertThat(Duration.between(cut, runA.end()[0]))
        .isLessThan(Duration.ofSeconds(LEASE_SECONDS).plus(AgentDaemon.FENCE_CHECK).plusSeconds(3));
    // The operator waited out the Lease and its grace period before moving the VM.
    assertThat(Duration.between(cut, runB.start()))
        .isGreaterThan(GRACE.plusSeconds(LEASE_SECONDS - 2));
    assertThat(a.daemon().agent().runningVms()).isEmpty();
    assertThat(onB.getMetadata().getUid()).isEqualTo(onA.getMetadata().getUid());
    // Exactly one run on each node: A's agent did not boot it again while cut off.
    assertThat(runs).extracting(Run::node).containsExactly("fence-a", "fence-b");
  }

  /** A node with a fake runtime whose runs are recorded; A reaches the API through the proxy. */
  private AgentNode node(String name, Path dir, String subnet, boolean throughProxy)
      throws Exception {
    system.addKubeletNode(name, Map.of());
    return system.addNode(
        new AgentNode.Spec(
            name,
            dir,
            Cidr.parse(subnet),
            () -> new Recorded(name, new FakeVmRuntime()),
            16,
            16384,
            () -> Optional.of("a fake runtime")),
        throughProxy ? () -> system.api().agentClientVia(proxy.uri()) : system.api()::agentClient,
        LEASE_SECONDS);
  }

  /** The fake runtime, recording when each run starts and ends. */
  private final class Recorded implements VmRuntime {
    private final String node;
    private final FakeVmRuntime fake;

    Recorded(String node, FakeVmRuntime fake) {
      this.node = node;
      this.fake = fake;
    }

    @Override
    public Capabilities capabilities() {
      return fake.capabilities();
    }

    @Override
    public RunningVm start(VmLaunch launch) throws VmStartException {
      RunningVm vm = fake.start(launch);
      Run run = new Run(node, launch.id(), Instant.now(), new Instant[1]);
      runs.add(run);
      vm.exit().whenComplete((exit, e) -> run.end()[0] = Instant.now());
      return vm;
    }

    @Override
    public RunningVm restore(java.nio.file.Path dir, VmLaunch launch) throws VmStartException {
      // A restored guest runs as much as a booted one: it counts for "never runs twice" too.
      RunningVm vm = fake.restore(dir, launch);
      Run run = new Run(node, launch.id(), Instant.now(), new Instant[1]);
      runs.add(run);
      vm.exit().whenComplete((exit, e) -> run.end()[0] = Instant.now());
      return vm;
    }
  }
}
