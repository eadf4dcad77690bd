package dev.hearth.agent.reconcile;

import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.agent.runtime.VmStartException;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.RunState;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;

/**
 * Moves a VM's guest between the run states of {@code spec.runState}: pauses and resumes it in
 * memory, and suspends it to a snapshot on the node, which frees it. Restoring a suspended guest is
 * the supervisor's, as it launches the guest anew.
 */
final class RunStateSwitch {
  private final AgentContext ctx;
  private final String uid;
  private final RunTracker runs;
  private final VmStatusWriter status;
  private final VmEvents events;
  private final SuspendedSnapshots snapshots;
  private final ReadinessWatch readiness;

  RunStateSwitch(
      AgentContext ctx,
      String uid,
      RunTracker runs,
      VmStatusWriter status,
      VmEvents events,
      SuspendedSnapshots snapshots,
      ReadinessWatch readiness) {
    this.ctx = ctx;
    this.uid = uid;
    this.runs = runs;
    this.status = status;
    this.events = events;
    this.snapshots = snapshots;
    this.readiness = readiness;
  }

  /** Moves a Running or Paused guest to {@code want}; a Suspended one is restored by sync. */
  void converge(RunState want, String reason) {
    switch (runs.state()) {
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
      events.warning(e.reason(), e.getMessage());
      return;
    }
    runs.moveTo(new SupervisorState.Paused(r.vm(), r.run(), ctx.clock().instant()));
    changed(RunState.Running, RunState.Paused, HearthApi.Reasons.SPEC_CHANGED, t0, null);
    status.ready(false, HearthApi.Reasons.PAUSED, "the guest is paused");
  }

  private void resume(SupervisorState.Paused p) {
    long t0 = System.nanoTime();
    p.vm().resume();
    runs.moveTo(new SupervisorState.Running(p.vm(), p.run()));
    changed(RunState.Paused, RunState.Running, HearthApi.Reasons.SPEC_CHANGED, t0, p.since());
    if (readiness.none()) {
      status.ready(true, HearthApi.Reasons.RESUMED, "the guest runs");
    } else {
      readiness.restart(p.run(), false);
    }
  }

  /**
   * Suspends a Running or Paused guest into its snapshot and frees it; its address and disks stay.
   * Returns false, with a Warning, when the snapshot could not be written (the guest runs on).
   */
  boolean suspend(String reason) {
    RunningVm live = runs.live();
    SupervisorState state = runs.state();
    RunState from = state instanceof SupervisorState.Paused ? RunState.Paused : RunState.Running;
    long t0 = System.nanoTime();
    Instant stopped = state instanceof SupervisorState.Paused p ? p.since() : ctx.clock().instant();
    try {
      live.suspend(snapshots.dir(uid));
      snapshots.recordSuspended(uid, stopped);
    } catch (VmStartException | IOException e) {
      String why = e instanceof VmStartException v ? v.getMessage() : e.toString();
      events.warning(HearthApi.Reasons.SUSPEND_FAILED, why);
      if (live.exit().isDone()) {
        // Snapshot written but not recorded: the guest is gone; it boots afresh.
        runs.end(SupervisorState.IDLE);
        snapshots.drop(uid);
      }
      return false;
    }
    readiness.stop();
    ctx.fds().release(uid); // a suspended guest holds no descriptors; its restore takes them again
    runs.end(new SupervisorState.Suspended(stopped));
    changed(from, RunState.Suspended, reason, t0, null);
    status.ready(
        false, HearthApi.Reasons.SUSPENDED, "suspended to a snapshot on node " + ctx.nodeName());
    return true;
  }

  /**
   * Reports a run-state change begun at {@code t0} (nanoTime): status.runState and
   * runStateTransition, and an Event. {@code stopped}, on a change to Running, is when the guest's
   * vCPUs stopped.
   */
  void changed(RunState from, RunState to, String reason, long t0, Instant stopped) {
    RunStateChange change =
        RunStateChange.of(
            from,
            to,
            reason,
            ctx.clock().instant(),
            Duration.ofNanos(System.nanoTime() - t0),
            stopped);
    status.runStateChanged(change);
    events.normal(change.eventReason(), change.eventMessage(ctx.nodeName()));
  }
}
