package dev.hearth.agent.reconcile;

import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.agent.runtime.VmStartException;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.RunState;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Moves a VM's guest between the run states of {@code spec.runState}: pauses and resumes it in
 * memory, and suspends it to a snapshot on the node, which frees it. Restoring a suspended guest is
 * the supervisor's, as it launches the guest anew.
 */
final class RunStateSwitch {
  private final SupervisedVm vm;
  private final SuspendedSnapshots snapshots;
  private final ReadinessWatch readiness;

  RunStateSwitch(SupervisedVm vm, SuspendedSnapshots snapshots, ReadinessWatch readiness) {
    this.vm = vm;
    this.snapshots = snapshots;
    this.readiness = readiness;
  }

  /** Moves a Running or Paused guest to {@code want}; a Suspended one is restored by sync. */
  void converge(RunState want, String reason) {
    switch (vm.runs().state()) {
      case SupervisorState.Running r when want == RunState.Paused -> pause(r);
      case SupervisorState.Running r when want == RunState.Suspended -> suspend(reason);
      case SupervisorState.Paused p when want == RunState.Running -> resume(p);
      case SupervisorState.Paused p when want == RunState.Suspended -> suspend(reason);
      default -> {}
    }
  }

  private void pause(SupervisorState.Running r) {
    long t0 = System.nanoTime();
    try {
      r.vm().pause();
    } catch (VmStartException e) {
      vm.events().warning(e.reason(), e.getMessage());
      return;
    }
    vm.runs().moveTo(new SupervisorState.Paused(r.vm(), r.run(), vm.ctx().clock().instant()));
    changed(RunState.Running, RunState.Paused, HearthApi.Reasons.SPEC_CHANGED, t0, null);
    vm.status().ready(false, HearthApi.Reasons.PAUSED, "the guest is paused");
  }

  private void resume(SupervisorState.Paused p) {
    long t0 = System.nanoTime();
    p.vm().resume();
    vm.runs().moveTo(new SupervisorState.Running(p.vm(), p.run()));
    changed(RunState.Paused, RunState.Running, HearthApi.Reasons.SPEC_CHANGED, t0, p.since());
    if (readiness.none()) {
      vm.status().ready(true, HearthApi.Reasons.RESUMED, "the guest runs");
    } else {
      readiness.restart(p.run(), false);
    }
  }

  /**
   * Suspends a Running or Paused guest into its snapshot and frees it; its address and disks stay.
   * Returns false, with a Warning, when the snapshot could not be written (the guest runs on).
   */
  boolean suspend(String reason) {
    RunningVm live = vm.runs().live();
    SupervisorState state = vm.runs().state();
    RunState from = state instanceof SupervisorState.Paused ? RunState.Paused : RunState.Running;
    long t0 = System.nanoTime();
    Instant stopped =
        state instanceof SupervisorState.Paused p ? p.since() : vm.ctx().clock().instant();
    try {
      live.suspend(snapshots.dir(vm.uid()));
      snapshots.recordSuspended(vm.uid(), stopped, reason);
    } catch (VmStartException | IOException e) {
      String why = e instanceof VmStartException v ? v.getMessage() : e.toString();
      vm.events().warning(HearthApi.Reasons.SUSPEND_FAILED, why);
      if (live.exit().isDone()) {
        // Snapshot written but not recorded: the guest is gone; it boots afresh.
        vm.runs().end(SupervisorState.IDLE);
        snapshots.drop(vm.uid());
      }
      return false;
    }
    readiness.stop();
    vm.ctx()
        .fds()
        .release(vm.uid()); // a suspended guest holds no descriptors; its restore takes them again
    vm.runs().end(new SupervisorState.Suspended(stopped, Optional.of(reason)));
    changed(from, RunState.Suspended, reason, t0, null);
    vm.status()
        .ready(
            false,
            HearthApi.Reasons.SUSPENDED,
            "suspended to a snapshot on node " + vm.ctx().nodeName());
    return true;
  }

  /**
   * Reports a run-state change begun at {@code t0} (nanoTime): vm.status().runState and
   * runStateTransition, and an Event. {@code stopped}, on a change to Running, is when the guest's
   * vCPUs stopped.
   */
  void changed(RunState from, RunState to, String reason, long t0, Instant stopped) {
    RunStateChange change =
        RunStateChange.of(
            from,
            to,
            reason,
            vm.ctx().clock().instant(),
            Duration.ofNanos(System.nanoTime() - t0),
            stopped);
    vm.status().runStateChanged(change);
    vm.events().normal(change.eventReason(), change.eventMessage(vm.ctx().nodeName()));
  }
}
