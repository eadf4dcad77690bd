package dev.hearth.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.v1alpha1.MicroVMPhase;
import org.junit.jupiter.api.Test;

/**
 * The meters the issue asks for: reconcile counts and latency (JOSDK's), scheduling latency,
 * pending VMs and per-node allocation, read from the registry after a few binds.
 */
class MetricsTest extends OperatorTestBase {

  private double gauge(String name, String node) {
    return registry.get(name).tag("node", nodeName(node)).gauge().value();
  }

  @Test
  void schedulingReconcileAndAllocationMetersFollowWhatHappened() {
    node("n1", 2, 4096);
    node("n2", 2, 4096);
    startOperator(config());
    for (int i = 0; i < 3; i++) {
      client.resource(vm("vm-" + i, 1, 256)).create();
    }
    client.resource(vm("too-big", 4, 256)).create();
    for (int i = 0; i < 3; i++) {
      awaitVm("vm-" + i, vm -> vm.getStatus() != null && vm.getStatus().getNodeName() != null);
    }
    awaitVm(
        "too-big",
        vm -> vm.getStatus() != null && vm.getStatus().getPhase() == MicroVMPhase.Pending);

    assertThat(registry.get("hearth.scheduling.attempts").tag("result", "bound").counter().count())
        .isEqualTo(3);
    assertThat(registry.get("hearth.scheduling.latency").timer().count()).isEqualTo(3);
    assertThat(
            registry
                .get("hearth.scheduling.attempts")
                .tag("result", "unschedulable")
                .counter()
                .count())
        .isGreaterThanOrEqualTo(1);
    await().atMost(TIMEOUT).until(() -> registry.get("hearth.vms.pending").gauge().value() == 1);
    // Spread: two on one node, one on the other; the test config has no VMM overhead.
    assertThat(
            gauge("hearth.node.allocated.vcpus", "n1") + gauge("hearth.node.allocated.vcpus", "n2"))
        .isEqualTo(3);
    assertThat(
            gauge("hearth.node.allocated.memory.mib", "n1")
                + gauge("hearth.node.allocated.memory.mib", "n2"))
        .isEqualTo(3 * 256);
    // JOSDK's reconcile counts and execution times, per controller.
    assertThat(registry.getMeters())
        .map(m -> m.getId().getName())
        .anyMatch(n -> n.startsWith("operator.sdk.reconciliations.started"))
        .anyMatch(n -> n.startsWith("operator.sdk.reconciliations.success"))
        .anyMatch(n -> n.startsWith("operator.sdk.controllers.execution.reconcile"));
    for (String controller : new String[] {"microvm-scheduler", "microvmnode-health"}) {
      assertThat(
              registry
                  .get("operator.sdk.controllers.execution.reconcile")
                  .tag("controller", controller)
                  .timer()
                  .count())
          .as(controller + " reconcile timer")
          .isPositive();
    }
  }
}
