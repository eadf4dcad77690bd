package dev.hearth.operator.microvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import dev.hearth.operator.Fixtures;
import dev.hearth.operator.microvm.BindingCoordinator.PendingBind;
import dev.hearth.operator.scheduling.Decision;
import dev.hearth.operator.scheduling.NodeCandidate;
import dev.hearth.operator.scheduling.Resources;
import dev.hearth.operator.scheduling.SchedulerConfig;
import dev.hearth.operator.scheduling.SchedulingStrategy;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The ledger's view of a bind whose write failed without an answer. */
class BindingCoordinatorTest {
  private final BindingCoordinator coordinator =
      new BindingCoordinator(new SchedulerConfig(SchedulingStrategy.SPREAD, 0, 0));
  private final List<NodeCandidate> oneRoom =
      List.of(new NodeCandidate("n", true, false, null, null, new Resources(2, 1024)));

  private static MicroVM vm(String name, String rv) {
    MicroVM vm = Fixtures.vm("vms", name, 2, 512);
    vm.getMetadata().setUid("uid-" + name);
    vm.getMetadata().setResourceVersion(rv);
    return vm;
  }

  private static MicroVM boundCopy(MicroVM vm, String rv) {
    MicroVM b = vm(vm.getMetadata().getName(), rv);
    b.setStatus(new MicroVMStatus());
    b.getStatus().setNodeName("n");
    return b;
  }

  private Decision decide(MicroVM vm) {
    return coordinator.decideAndReserve(vm, oneRoom, List::of);
  }

  @Test
  void anInDoubtBindHoldsItsRoomWhileTheServerStillShowsTheGuardedVersion() {
    MicroVM first = vm("first", "10");
    assertThat(decide(first)).isInstanceOf(Decision.Bind.class);
    coordinator.bindInDoubt(first);
    coordinator.settleInDoubt(first, vm("first", "10")); // read back: unbound, same version
    assertThat(coordinator.usedOn("n").vcpus()).isEqualTo(2);
    assertThat(coordinator.pendingBind(first)).isEqualTo(PendingBind.IN_DOUBT);
    assertThat(coordinator.reservedNode(first)).isEqualTo("n");
    assertThat(decide(vm("second", "11"))).isInstanceOf(Decision.Unschedulable.class);

    coordinator.settleInDoubt(first, boundCopy(first, "12")); // it landed
    assertThat(coordinator.pendingBind(boundCopy(first, "12"))).isEqualTo(PendingBind.NONE);
    assertThat(coordinator.usedOn("n").vcpus()).isEqualTo(2);
  }

  @Test
  void anInDoubtBindIsDroppedOnceTheVmMovedOnUnboundOrIsGone() {
    MicroVM first = vm("first", "10");
    decide(first);
    coordinator.bindInDoubt(first);
    // Another write moved the VM on: the guarded bind can never land.
    assertThat(coordinator.pendingBind(vm("first", "13"))).isEqualTo(PendingBind.NONE);
    assertThat(coordinator.usedOn("n")).isEqualTo(Resources.ZERO);

    MicroVM again = vm("first", "13");
    decide(again);
    coordinator.bindInDoubt(again);
    coordinator.settleInDoubt(again, null); // deleted
    assertThat(coordinator.usedOn("n")).isEqualTo(Resources.ZERO);
  }

  @Test
  void aWrittenBindIsNotDecidedAgainWhileTheCacheLags() {
    MicroVM first = vm("first", "10");
    decide(first);
    coordinator.bindInDoubt(first);
    coordinator.bindWritten(first); // the rewrite landed
    assertThat(coordinator.pendingBind(vm("first", "10"))).isEqualTo(PendingBind.WRITTEN);
    assertThat(coordinator.pendingBind(vm("first", "14"))).isEqualTo(PendingBind.WRITTEN);
  }
}
