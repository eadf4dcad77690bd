package dev.hearth.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import dev.hearth.api.v1alpha1.RestartPolicy;
import dev.hearth.api.v1alpha1.RunState;
import io.fabric8.kubernetes.api.model.Event;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeLossTest extends OperatorTestBase {

  /** Events about a cluster-scoped MicroVMNode land in the default namespace. */
  private List<Event> nodeEvents(String node, String reason) {
    return client.v1().events().inNamespace("default").list().getItems().stream()
        .filter(e -> nodeName(node).equals(e.getInvolvedObject().getName()))
        .filter(e -> "MicroVMNode".equals(e.getInvolvedObject().getKind()))
        .filter(e -> reason.equals(e.getReason()))
        .toList();
  }

  @Test
  void lostNodeGoesNotReadyThenItsVmsMoveFailOrLoseTheirFinalizer() {
    node("doomed", 8, 8192);
    startOperator(config());
    awaitReady("doomed");

    MicroVM always = vm("always", 1, 128);
    client.resource(always).create();
    MicroVM never = vm("never", 1, 128);
    never.getSpec().setRestartPolicy(RestartPolicy.Never);
    client.resource(never).create();
    client.resource(vm("deleted", 1, 128)).create();
    for (String name : new String[] {"always", "never", "deleted"}) {
      awaitVm(
          name,
          vm -> vm.getStatus() != null && nodeName("doomed").equals(vm.getStatus().getNodeName()));
    }
    // The agent reported "always" running, under its own field manager.
    MicroVM always0 = get("always");
    MicroVMStatus running = new MicroVMStatus();
    running.setPhase(MicroVMPhase.Running);
    running.setStartTime("2026-12-05T00:00:00Z");
    running.setBootTimeMillis(42L);
    running.setRunState(RunState.Suspended); // its snapshot is on the node about to be lost
    running.setConditions(always0.getStatus().getConditions());
    new StatusApply(client, StatusApply.AGENT)
        .apply(
            always0,
            running,
            List.of("phase", "startTime", "bootTimeMillis", "runState", "conditions"),
            false);
    awaitVm("always", vm -> vm.getStatus().getPhase() == MicroVMPhase.Running);
    client.resources(MicroVM.class).inNamespace(ns).withName("deleted").delete();
    // The agent renews nothing from here on.
    clock.advance(Duration.ofSeconds(41));
    await().atMost(TIMEOUT).until(() -> "False".equals(readyOf("doomed")));
    await().atMost(TIMEOUT).until(() -> nodeEvents("doomed", "NodeNotReady").size() == 1);
    assertThat(nodeEvents("doomed", "NodeNotReady").get(0).getType()).isEqualTo("Warning");
    MicroVM unknown = awaitVm("always", vm -> vm.getStatus().getPhase() == MicroVMPhase.Unknown);
    assertThat(unknown.getStatus().getNodeName())
        .as("still bound during the grace period")
        .isEqualTo(nodeName("doomed"));
    assertThat(unknown.getStatus().condition(HearthApi.Conditions.READY).orElseThrow().getReason())
        .isEqualTo(HearthApi.Reasons.NODE_LOST);
    assertThat(get("deleted")).as("finalizer still held within the grace period").isNotNull();

    clock.advance(Duration.ofSeconds(61));
    // A healthy node (fresh Lease at the new time) arrives to take the VMs.
    node("healthy", 8, 8192);
    MicroVM moved =
        awaitVm(
            "always",
            vm ->
                nodeName("healthy").equals(vm.getStatus().getNodeName())
                    && vm.getMetadata().getLabels() != null
                    && nodeName("healthy")
                        .equals(vm.getMetadata().getLabels().get(HearthApi.NODE_LABEL)));
    assertThat(moved.getMetadata().getLabels())
        .containsEntry(HearthApi.NODE_LABEL, nodeName("healthy"));
    assertThat(moved.getMetadata().getFinalizers()).containsExactly(HearthApi.AGENT_FINALIZER);
    assertThat(moved.getStatus().getExit().getReason()).isEqualTo(HearthApi.Reasons.NODE_LOST);
    assertThat(moved.getStatus().getStartTime())
        .as("the dead agent's runtime fields go with the move, though the agent owned them")
        .isNull();
    assertThat(moved.getStatus().getBootTimeMillis()).isNull();
    // A suspended VM moves like a running one, but boots afresh: its snapshot was on the node.
    assertThat(moved.getStatus().getRunState()).isNull();
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                client.v1().events().inNamespace(ns).list().getItems().stream()
                    .filter(e -> "always".equals(e.getInvolvedObject().getName()))
                    .filter(e -> HearthApi.Reasons.NODE_LOST.equals(e.getReason()))
                    .map(Event::getMessage)
                    .anyMatch(m -> m.contains("it was Suspended there, and its memory is lost")));

    MicroVM failed =
        awaitVm(
            "never",
            vm ->
                vm.getStatus().getPhase() == MicroVMPhase.Failed
                    && !vm.getMetadata().getFinalizers().contains(HearthApi.AGENT_FINALIZER));
    assertThat(failed.getStatus().getNodeName()).isEqualTo(nodeName("doomed"));
    assertThat(failed.getMetadata().getFinalizers()).doesNotContain(HearthApi.AGENT_FINALIZER);

    await().atMost(TIMEOUT).until(() -> get("deleted") == null);
  }

  @Test
  void renewedLeaseKeepsTheNodeReadyAsTimePasses() {
    node("steady", 4, 4096);
    startOperator(config());
    client.resource(vm("stays", 1, 128)).create();
    awaitVm(
        "stays",
        vm -> vm.getStatus() != null && nodeName("steady").equals(vm.getStatus().getNodeName()));
    // Small steps, each well within the 40 s Lease, as a live agent renews.
    for (int i = 0; i < 15; i++) {
      clock.advance(Duration.ofSeconds(5));
      renewLease("steady");
      await().pollDelay(Duration.ofMillis(50)).until(() -> true);
    }
    // Several recheck intervals pass with the clock well beyond the first Lease's expiry.
    await()
        .during(Duration.ofSeconds(1))
        .atMost(TIMEOUT)
        .until(() -> "True".equals(readyOf("steady")));
    assertThat(get("stays").getStatus().getPhase()).isEqualTo(MicroVMPhase.Scheduled);
  }
}
