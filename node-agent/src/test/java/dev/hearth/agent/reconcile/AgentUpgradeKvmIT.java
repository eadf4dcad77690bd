package dev.hearth.agent.reconcile;

import static dev.hearth.vmm.testing.ConsoleCounts.TICK;
import static dev.hearth.vmm.testing.ConsoleCounts.first;
import static dev.hearth.vmm.testing.ConsoleCounts.last;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.agent.testing.Loopback;
import dev.hearth.agent.testing.SharedApiServer;
import dev.hearth.agent.testing.TestAgentContext;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.RunState;
import dev.hearth.api.v1alpha1.RunStateTransition;
import dev.hearth.vmm.testing.BuiltGuests;
import dev.hearth.vmm.testing.KvmResources;
import dev.hearth.vmm.testing.RequiresKvm;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replacing the agent while a guest counts (issue 16's agent upgrade): the old agent suspends the
 * VM on shutdown, the new one, with the same data directory, restores it. And spec.runState's
 * pause, suspend and resume on the real VMM, across an agent that is killed while the VM is
 * suspended. The tiny ticker guest prints "tick N" from 0 up; a restored guest goes on from where
 * it was, a rebooted one would start at 0 again. The real embedded VMM on /dev/kvm, the real API
 * server with the agent's token.
 */
@RequiresKvm
class AgentUpgradeKvmIT {

  @TempDir Path state;
  private String ns;
  private String node;
  private KubernetesClient client;
  private KubernetesClient agentClient;
  private NodeAgent agent;

  @BeforeEach
  void setUp() throws Exception {
    Loopback.up();
    client = SharedApiServer.client();
    ns = SharedApiServer.createNamespace("upgrade");
    node = "node-" + ns;
    agentClient = SharedApiServer.agentClient();
  }

  @AfterEach
  void tearDown() {
    if (agent != null) {
      agent.close();
    }
    agentClient.close();
    SharedApiServer.deleteNamespace(ns);
  }

  /** An agent on the test's node and data directory, with a console buffer of its own. */
  private NodeAgent newAgent(ConsoleRegistry consoles) throws Exception {
    AgentContext ctx =
        TestAgentContext.of(node, agentClient, state)
            .runtime(new VmmRuntime())
            .guestCidr("10.90.0.0/24")
            .imagesRoot(Path.of("/"))
            .consoles(consoles)
            .stopGrace(Duration.ofSeconds(2))
            .build();
    NodeAgent a = new NodeAgent(ctx);
    a.start(Duration.ofSeconds(30));
    return a;
  }

  private void createTicker() {
    MicroVMSpec spec = new MicroVMSpec();
    Path ticker = BuiltGuests.elf("ticker").toAbsolutePath();
    spec.setKernel(new KernelSpec(ImageSource.ofPath(Path.of("/").relativize(ticker).toString())));
    spec.setMemoryMiB(16);
    MicroVM vm = new MicroVM();
    vm.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(ns)
            .withName("ticker")
            .withLabels(Map.of(HearthApi.NODE_LABEL, node))
            .withFinalizers(HearthApi.AGENT_FINALIZER)
            .build());
    vm.setSpec(spec);
    client.resource(vm).create();
  }

  private void setRunState(RunState want) {
    client
        .resources(MicroVM.class)
        .inNamespace(ns)
        .withName("ticker")
        .edit(
            v -> {
              v.getSpec().setRunState(want);
              return v;
            });
    await().atMost(60, TimeUnit.SECONDS).until(() -> get().getStatus().getRunState() == want);
  }

  private MicroVM get() {
    return client.resources(MicroVM.class).inNamespace(ns).withName("ticker").get();
  }

  private static String text(ConsoleRegistry consoles, String ns) {
    return consoles
        .find(ns, "ticker")
        .map(c -> new String(c.tail().data(), StandardCharsets.UTF_8))
        .orElse("");
  }

  @Test
  void aReplacedAgentRestoresItsGuestWhichCountsOnWithoutRebooting() throws Exception {
    ConsoleRegistry before = new ConsoleRegistry(64 * 1024);
    agent = newAgent(before);
    createTicker();
    await().atMost(60, TimeUnit.SECONDS).until(() -> last(TICK, text(before, ns)) >= 50);

    // SIGTERM: the old agent suspends the VM to disk and frees it.
    agent.shutdown("the node agent received SIGTERM", Duration.ofSeconds(30));
    agent.close();
    agent = null;
    long counted = last(TICK, text(before, ns));
    assertThat(KvmResources.vcpuThreads()).isZero();
    assertThat(get().getStatus().getRunState()).isEqualTo(RunState.Suspended);
    Path snapshot = state.resolve("vms").resolve(get().getMetadata().getUid()).resolve("snapshot");
    assertThat(snapshot.resolve("memory")).exists();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(snapshot)))
        .isEqualTo("rwx------");
    Thread.sleep(300); // the new agent's pod starting

    // The new agent restores the guest from the snapshot instead of booting it.
    ConsoleRegistry after = new ConsoleRegistry(8 << 20);
    agent = newAgent(after);
    await()
        .atMost(60, TimeUnit.SECONDS)
        .until(() -> get().getStatus().getRunState() == RunState.Running);
    await().atMost(60, TimeUnit.SECONDS).until(() -> last(TICK, text(after, ns)) > counted + 50);
    String out = text(after, ns);
    // The count goes on from where the old agent left it: no tick 0, no boot.
    long resumedAt = first(TICK, out);
    assertThat(resumedAt).isBetween(counted + 1, counted + 2);
    assertThat(out).doesNotContain("tick 0\n");
    RunStateTransition t = get().getStatus().getRunStateTransition();
    assertThat(t.getFrom()).isEqualTo(RunState.Suspended);
    assertThat(t.getTo()).isEqualTo(RunState.Running);
    assertThat(t.getReason()).isEqualTo(HearthApi.Reasons.AGENT_STARTED);
    // Status says how long the guest was paused: at least the gap between the two agents.
    assertThat(t.getPausedMillis()).isGreaterThanOrEqualTo(300L);
    assertThat(get().getStatus().getRestartCount()).isZero();
    System.out.printf(
        "agent upgrade: guest paused %d ms, restore took %d ms, ticks %d -> %d%n",
        t.getPausedMillis(), t.getDurationMillis(), counted, resumedAt);

    client.resources(MicroVM.class).inNamespace(ns).withName("ticker").delete();
    await().atMost(60, TimeUnit.SECONDS).until(() -> get() == null);
    await().atMost(10, TimeUnit.SECONDS).until(() -> KvmResources.vcpuThreads() == 0);
    assertThat(snapshot).doesNotExist();
  }

  @Test
  void pausedStopsTheCountSuspendedSurvivesAKilledAgentAndRunningGoesOn() throws Exception {
    ConsoleRegistry first = new ConsoleRegistry(1 << 20);
    agent = newAgent(first);
    createTicker();
    await().atMost(60, TimeUnit.SECONDS).until(() -> last(TICK, text(first, ns)) >= 20);

    setRunState(RunState.Paused);
    long paused = last(TICK, text(first, ns));
    Thread.sleep(500);
    assertThat(last(TICK, text(first, ns))).as("no tick while paused").isEqualTo(paused);
    assertThat(KvmResources.vcpuThreads()).isEqualTo(1); // still in memory

    setRunState(RunState.Running);
    await().atMost(30, TimeUnit.SECONDS).until(() -> last(TICK, text(first, ns)) > paused + 10);
    assertThat(get().getStatus().getRunStateTransition().getPausedMillis())
        .isGreaterThanOrEqualTo(500L);

    setRunState(RunState.Suspended);
    long counted = last(TICK, text(first, ns));
    assertThat(KvmResources.vcpuThreads()).as("the VM is freed").isZero();
    // The agent dies without a shutdown of its own (nothing runs that it could suspend).
    agent.close();
    agent = null;

    ConsoleRegistry second = new ConsoleRegistry(1 << 20);
    agent = newAgent(second);
    Thread.sleep(500);
    assertThat(KvmResources.vcpuThreads()).as("still suspended: nothing boots").isZero();
    assertThat(get().getStatus().getRunState()).isEqualTo(RunState.Suspended);

    setRunState(RunState.Running);
    await().atMost(60, TimeUnit.SECONDS).until(() -> last(TICK, text(second, ns)) > counted + 10);
    assertThat(first(TICK, text(second, ns))).isBetween(counted + 1, counted + 2);
    RunStateTransition t = get().getStatus().getRunStateTransition();
    assertThat(t.getFrom()).isEqualTo(RunState.Suspended);
    assertThat(t.getReason()).isEqualTo(HearthApi.Reasons.SPEC_CHANGED);
    System.out.printf(
        "spec suspend/resume across an agent restart: paused %d ms, restore %d ms%n",
        t.getPausedMillis(), t.getDurationMillis());
    // A paused VM is deleted like a running one: its vCPU threads end, nothing is left.
    setRunState(RunState.Paused);
    client.resources(MicroVM.class).inNamespace(ns).withName("ticker").delete();
    await().atMost(60, TimeUnit.SECONDS).until(() -> get() == null);
    await().atMost(10, TimeUnit.SECONDS).until(() -> KvmResources.vcpuThreads() == 0);
  }
}
