package dev.hearth.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MicroVMSchedulingTest extends OperatorTestBase {

  private boolean boundTo(MicroVM vm, String shortName) {
    String node = nodeName(shortName);
    return vm.getStatus() != null
        && node.equals(vm.getStatus().getNodeName())
        && vm.getMetadata().getLabels() != null
        && node.equals(vm.getMetadata().getLabels().get(HearthApi.NODE_LABEL))
        && vm.getMetadata().getFinalizers().contains(HearthApi.AGENT_FINALIZER);
  }

  private static Condition scheduled(MicroVM vm) {
    return vm.getStatus().condition(HearthApi.Conditions.SCHEDULED).orElseThrow();
  }

  @Test
  void placesVmsByLabelsTaintsAndRoomAndExplainsWhatDoesNotFit() {
    node("ssd-node", 4, 4096, Map.of("disk", "ssd"), List.of());
    node(
        "gpu-node",
        4,
        4096,
        Map.of("gpu", "true"),
        List.of(new Taint("NoSchedule", "dedicated", null, "gpu")));
    node("small-node", 1, 256);
    startOperator(config());
    awaitReady("ssd-node", "gpu-node", "small-node");

    MicroVM ssd = vm("wants-ssd", 2, 512);
    ssd.getSpec().setNodeSelector(Map.of("disk", "ssd"));
    client.resource(ssd).create();
    MicroVM gpu = vm("wants-gpu", 2, 512);
    gpu.getSpec().setNodeSelector(Map.of("gpu", "true"));
    gpu.getSpec()
        .setTolerations(List.of(new Toleration("NoSchedule", "dedicated", "Equal", null, "gpu")));
    client.resource(gpu).create();
    MicroVM gpuNoToleration = vm("gpu-without-toleration", 1, 128);
    gpuNoToleration.getSpec().setNodeSelector(Map.of("gpu", "true"));
    client.resource(gpuNoToleration).create();
    client.resource(vm("too-big", 8, 512)).create();

    MicroVM a = awaitVm("wants-ssd", vm -> boundTo(vm, "ssd-node"));
    assertThat(a.getStatus().getPhase()).isEqualTo(MicroVMPhase.Scheduled);
    assertThat(scheduled(a).getStatus()).isEqualTo("True");
    assertThat(scheduled(a).getReason()).isEqualTo(HearthApi.Reasons.BOUND);
    awaitVm("wants-gpu", vm -> boundTo(vm, "gpu-node"));
    // A Normal Event says where it went, about this very object.
    await().atMost(TIMEOUT).until(() -> events(ns, "wants-ssd", "Scheduled").size() == 1);
    Event scheduled = events(ns, "wants-ssd", "Scheduled").get(0);
    assertThat(scheduled.getType()).isEqualTo("Normal");
    assertThat(scheduled.getMessage()).isEqualTo("bound to node " + nodeName("ssd-node"));
    assertThat(scheduled.getInvolvedObject().getKind()).isEqualTo("MicroVM");
    assertThat(scheduled.getInvolvedObject().getUid()).isEqualTo(a.getMetadata().getUid());
    assertThat(scheduled.getSource().getComponent()).isEqualTo("hearth-operator");

    MicroVM tainted =
        awaitVm(
            "gpu-without-toleration",
            vm -> vm.getStatus() != null && vm.getStatus().getPhase() != null);
    assertThat(tainted.getStatus().getPhase()).isEqualTo(MicroVMPhase.Pending);
    assertThat(scheduled(tainted).getStatus()).isEqualTo("False");
    assertThat(scheduled(tainted).getMessage())
        .isEqualTo(
            "0/3 nodes are available: 2 node(s) didn't match nodeSelector,"
                + " 1 node(s) had untolerated taint {dedicated=gpu:NoSchedule}.");
    // Reasons are listed in alphabetical order, so the message is stable.
    MicroVM big =
        awaitVm("too-big", vm -> vm.getStatus() != null && vm.getStatus().getPhase() != null);
    assertThat(scheduled(big).getReason()).isEqualTo(HearthApi.Reasons.UNSCHEDULABLE);
    assertThat(scheduled(big).getMessage())
        .isEqualTo(
            "0/3 nodes are available: 2 insufficient vCPUs,"
                + " 1 node(s) had untolerated taint {dedicated=gpu:NoSchedule}.");
    assertThat(big.getMetadata().getFinalizers()).doesNotContain(HearthApi.AGENT_FINALIZER);
    // One Event, however often the reconciler saw the VM: a repeat is counted on it.
    await()
        .atMost(TIMEOUT)
        .untilAsserted(
            () ->
                assertThat(failedSchedulingEvents("too-big"))
                    .extracting(Event::getMessage)
                    .containsExactly(scheduled(big).getMessage()));
  }

  @Test
  void pendingVmIsBoundWhenANodeWithRoomAppears() {
    node("n1", 2, 1024);
    startOperator(config());
    client.resource(vm("big", 4, 512)).create();
    awaitVm(
        "big", vm -> vm.getStatus() != null && vm.getStatus().getPhase() == MicroVMPhase.Pending);

    node("n2", 8, 8192);
    MicroVM bound = awaitVm("big", vm -> boundTo(vm, "n2"));
    assertThat(scheduled(bound).getStatus()).isEqualTo("True");
  }

  @Test
  void pinnedVmGoesToItsNodeOnly() {
    node("a", 8, 8192);
    node("b", 8, 8192);
    startOperator(config());
    MicroVM pinned = vm("pinned", 1, 128);
    pinned.getSpec().setNodeName(nodeName("b"));
    client.resource(pinned).create();
    awaitVm("pinned", vm -> boundTo(vm, "b"));
  }

  @Test
  void deletionWaitsForTheAgentFinalizerAndFreesTheRoom() {
    node("only", 2, 4096);
    startOperator(config());
    client.resource(vm("first", 2, 256)).create();
    awaitVm("first", vm -> boundTo(vm, "only"));
    client.resource(vm("second", 2, 256)).create();
    awaitVm(
        "second",
        vm -> vm.getStatus() != null && vm.getStatus().getPhase() == MicroVMPhase.Pending);

    client.resources(MicroVM.class).inNamespace(ns).withName("first").delete();
    MicroVM deleting = awaitVm("first", vm -> vm.getMetadata().getDeletionTimestamp() != null);
    assertThat(deleting.getMetadata().getFinalizers())
        .as("the operator leaves the agent's finalizer to a live agent")
        .contains(HearthApi.AGENT_FINALIZER);
    // Still held: the VM is still running until its agent has stopped it.
    assertThat(get("second").getStatus().getNodeName()).isNull();

    // The agent stops the VM and removes its finalizer.
    client
        .resources(MicroVM.class)
        .inNamespace(ns)
        .withName("first")
        .edit(
            vm -> {
              vm.getMetadata().getFinalizers().remove(HearthApi.AGENT_FINALIZER);
              return vm;
            });
    await().atMost(TIMEOUT).until(() -> get("first") == null);
    awaitVm("second", vm -> boundTo(vm, "only"));
  }

  private List<Event> failedSchedulingEvents(String vmName) {
    return events(ns, vmName, "FailedScheduling");
  }
}
