package dev.hearth.e2e.node;

import static dev.hearth.vmm.testing.ConsoleCounts.TICK;
import static dev.hearth.vmm.testing.ConsoleCounts.first;
import static dev.hearth.vmm.testing.ConsoleCounts.last;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.RunState;
import dev.hearth.api.v1alpha1.RunStateTransition;
import dev.hearth.vmm.testing.ConsoleCounts;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The agent replaced through the chart on a real node while a guest counts (issue 16's agent
 * upgrade and its "suspend a VM, kill the agent and resume"). The tiny ticker guest prints "tick N"
 * from 0 up; a restored guest goes on from where it was, a rebooted one starts at 0 again. Its
 * snapshot lies in the agent's data folder, a hostPath, so it outlives the agent's pod.
 *
 * <ol>
 *   <li>{@code helm upgrade} with a new pod annotation replaces the agent pod: the old agent
 *       suspends the VM on SIGTERM, the new one restores it; the count goes on and the status says
 *       how long the guest was stopped.
 *   <li>{@code spec.runState: Suspended}, then the agent pod deleted with {@code --grace-period=0
 *       --force}: the new agent keeps the VM suspended, and {@code runState: Running} resumes it
 *       with its count going on.
 * </ol>
 *
 * <p>Needs what {@link ChartOnRealNodeIT} needs (root, {@code /dev/kvm}, the Kubernetes binaries,
 * the packaged jars); run only under {@code flock /tmp/hearth-realnode.lock}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(SharedRealNode.class)
class AgentReplacedOnRealNodeIT {
  private static final String VM = "ticker";
  private static final String AGENT_LABEL = "app.kubernetes.io/component";

  private Path tmp;
  private RealNode node;
  private HearthRelease release;
  private final NodeGuests guests = new NodeGuests();

  @BeforeAll
  void start(SharedRealNode.Fixture fixture) throws IOException {
    node = fixture.node();
    tmp = Files.createTempDirectory(fixture.tmp(), "agent-replaced-");
    release = new HearthRelease(node, fixture.images());
    guests.copy("ticker.elf");
  }

  @AfterAll
  void stop() throws IOException {
    // The node is shared (SharedRealNode): leave it as this class found it.
    if (release != null) {
      node.kubectl("delete", "microvm", VM, "--ignore-not-found", "--timeout=90s");
      release.removeWithCrds();
    }
    guests.restore();
  }

  @Test
  @Order(1)
  void aGuestCountsUnderTheChartsAgent() throws IOException {
    Timed.run("helm install to Ready", release::install);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                node.plane().client().resources(MicroVMNode.class).withName(node.name()).get()
                    != null);
    Path manifest = Files.writeString(tmp.resolve("ticker.yaml"), tickerVm());
    node.kubectl("apply", "-f", manifest.toString()).orFail("kubectl apply ticker");
    await()
        .atMost(Duration.ofSeconds(90))
        .untilAsserted(() -> assertThat(last(TICK, console())).isGreaterThanOrEqualTo(20));
  }

  @Test
  @Order(2)
  void helmUpgradeReplacesTheAgentAndTheCountGoesOn() {
    String oldPod = agentPod().getMetadata().getName();
    int restarts = restartCount();
    long before = last(TICK, console());
    Timed.run(
        "helm upgrade, agent replaced",
        () -> release.upgrade("agent.podAnnotations.hearth\\.dev/restarted=r" + System.nanoTime()));
    assertThat(agentPod().getMetadata().getName()).as("a new agent pod").isNotEqualTo(oldPod);
    RunStateTransition t = awaitRestoredFrom(RunState.Suspended);
    String out = console();
    long first = first(TICK, out);
    System.err.printf(
        "hearth-node: agent replaced by helm upgrade: last tick seen before %d, first after %d;"
            + " %s %s->%s, stopped %d ms, restore %d ms%n",
        before,
        first,
        t.getReason(),
        t.getFrom(),
        t.getTo(),
        t.getPausedMillis(),
        t.getDurationMillis());
    assertThat(first)
        .as("the count goes on, not from 0 (console:%n%s)", ConsoleCounts.head(out))
        .isGreaterThan(before);
    assertThat(t.getReason()).isEqualTo("AgentStarted");
    assertThat(t.getPausedMillis()).as("pausedMillis").isNotNull().isPositive();
    assertThat(restartCount()).as("restartCount: no reboot").isEqualTo(restarts);
  }

  @Test
  @Order(3)
  void suspendedThenAgentKilledThenRunningResumesTheCount() {
    setRunState(RunState.Suspended);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> vm().getStatus().getRunState() == RunState.Suspended);
    long counted = last(TICK, console());
    int restarts = restartCount();
    // The snapshot is on the node's disk, in the chart's hostPath data folder: it outlives the pod.
    Path vmDir = NodeGuests.DATA_DIR.resolve("vms").resolve(vm().getMetadata().getUid());
    assertThat(vmDir.resolve("snapshot/state")).isRegularFile();
    assertThat(vmDir.resolve("suspended")).content().endsWith(" SpecChanged");
    String oldPod = agentPod().getMetadata().getName();
    Timed.run(
        "agent killed, new agent Ready",
        () -> {
          node.kubectl(
                  "-n",
                  HearthRelease.NAMESPACE,
                  "delete",
                  "pod",
                  oldPod,
                  "--grace-period=0",
                  "--force")
              .orFail("kubectl delete pod --force " + oldPod);
          await()
              .atMost(Duration.ofSeconds(180))
              .untilAsserted(
                  () -> {
                    assertThat(agentPod().getMetadata().getName()).isNotEqualTo(oldPod);
                    assertThat(agentReady()).as("the new agent Ready").isTrue();
                  });
        });
    // The new agent keeps it in its snapshot: nothing boots until the spec says Running.
    assertThat(vm().getStatus().getRunState()).isEqualTo(RunState.Suspended);
    setRunState(RunState.Running);
    RunStateTransition t = awaitRestoredFrom(RunState.Suspended);
    await().atMost(Duration.ofSeconds(30)).until(() -> last(TICK, console()) > counted + 5);
    String out = console();
    long first = first(TICK, out);
    System.err.printf(
        "hearth-node: suspended, agent killed, resumed: last tick %d, first after %d; %s,"
            + " suspended %d ms, restore %d ms%n",
        counted, first, t.getReason(), t.getPausedMillis(), t.getDurationMillis());
    // The guest printed at most the line it was in the middle of after the console was read.
    assertThat(first)
        .as("the count goes on (console:%n%s)", ConsoleCounts.head(out))
        .isBetween(counted + 1, counted + 2);
    assertThat(t.getReason()).isEqualTo("SpecChanged");
    assertThat(t.getPausedMillis()).isPositive();
    assertThat(restartCount()).as("restartCount: no reboot").isEqualTo(restarts);

    node.kubectl("delete", "microvm", VM, "--timeout=90s").orFail("kubectl delete microvm");
  }

  private RunStateTransition awaitRestoredFrom(RunState from) {
    try {
      awaitRestored(from);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      // What the agents said about the VM: a suspend or restore that failed leaves an Event.
      throw new AssertionError(
          "not restored from "
              + from
              + "; the VM's status: "
              + vm().getStatus()
              + "; its Events:\n"
              + node.kubectl(
                      "get",
                      "events",
                      "-n",
                      "default",
                      "--field-selector",
                      "involvedObject.name=" + VM,
                      "-o",
                      "custom-columns=TIME:.lastTimestamp,TYPE:.type,REASON:.reason,MESSAGE:.message")
                  .stdout(),
          e);
    }
    return vm().getStatus().getRunStateTransition();
  }

  private void awaitRestored(RunState from) {
    await()
        .atMost(Duration.ofSeconds(120))
        .untilAsserted(
            () -> {
              MicroVM vm = vm();
              assertThat(vm.getStatus().getRunState()).isEqualTo(RunState.Running);
              assertThat(vm.getStatus().getPhase()).hasToString("Running");
              RunStateTransition t = vm.getStatus().getRunStateTransition();
              assertThat(t).isNotNull();
              assertThat(t.getFrom()).isEqualTo(from);
              assertThat(t.getTo()).isEqualTo(RunState.Running);
              assertThat(last(TICK, console())).isGreaterThanOrEqualTo(0);
            });
  }

  private void setRunState(RunState want) {
    node.setRunState(VM, want);
  }

  private static String tickerVm() {
    return """
        apiVersion: hearth.dev/v1alpha1
        kind: MicroVM
        metadata:
          name: %s
          namespace: default
        spec:
          vcpus: 1
          memoryMiB: 16
          kernel:
            source:
              path: ticker.elf
          restartPolicy: Always
        """
        .formatted(VM);
  }

  private MicroVM vm() {
    return node.plane().client().resources(MicroVM.class).inNamespace("default").withName(VM).get();
  }

  private int restartCount() {
    Integer n = vm().getStatus().getRestartCount();
    return n == null ? 0 : n;
  }

  private Pod agentPod() {
    List<Pod> pods =
        node
            .plane()
            .client()
            .pods()
            .inNamespace(HearthRelease.NAMESPACE)
            .withLabel(AGENT_LABEL, "agent")
            .list()
            .getItems()
            .stream()
            .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
            .toList();
    assertThat(pods).as("agent pods\n%s", release.podsAndLogs()).hasSize(1);
    return pods.getFirst();
  }

  private boolean agentReady() {
    Pod pod = agentPod();
    return pod.getStatus() != null
        && pod.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private String console() {
    return NodeHost.console(node.plane(), "default", VM);
  }
}
