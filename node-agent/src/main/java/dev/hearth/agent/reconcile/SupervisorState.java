package dev.hearth.agent.reconcile;

import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.RunStateTransition;
import java.time.Instant;
import java.util.Optional;

/**
 * Where a {@link VmSupervisor}'s VM is. The supervisor moves only by {@link VmSupervisor}'s one
 * transition method, which refuses a move that {@link #allows} does not.
 *
 * <pre>
 *   Idle ──start──▶ Running ──guest exits──▶ BackingOff ──back-off over──▶ Idle
 *    ▲  ╲              │    ╲──────────────▶ Finished (policy says stop)
 *    │   ╲ set-up      └─stop (spec change, shutdown, delete)──▶ Idle
 *    │    ╲ fails ──▶ BackingOff | Finished
 *    └── new generation ── Finished | BackingOff          any but Running ──delete──▶ Gone
 *
 *   Running ◀──pause/resume──▶ Paused        Running | Paused ──suspend──▶ Suspended
 *   Suspended ──restore──▶ Running     Suspended ──snapshot dropped──▶ Idle
 * </pre>
 */
sealed interface SupervisorState {
  /** Nothing runs and nothing is scheduled: new, or its guest was stopped. */
  record Idle() implements SupervisorState {}

  /** A guest runs; {@code run} numbers it, so that callbacks of a replaced run are ignored. */
  record Running(RunningVm vm, long run) implements SupervisorState {}

  /** A guest whose vCPUs are stopped since {@code since}; it stays in memory. */
  record Paused(RunningVm vm, long run, Instant since) implements SupervisorState {}

  /**
   * Nothing runs: the guest is in a snapshot on this node, taken when its vCPUs stopped at {@code
   * since}, suspended for {@code reason} ({@code AgentShutdown}, {@code SpecChanged}, or empty when
   * not recorded); its address and disks are kept for the restore.
   */
  record Suspended(Instant since, Optional<String> reason) implements SupervisorState {
    /**
     * Why the guest runs again now that its spec lets it: {@code AgentStarted} when the last agent
     * suspended it on its way out, else {@code SpecChanged}. The snapshot's own record says so even
     * where that agent could not write the status any more; {@code recorded} (the status's last
     * transition, may be null) is the fallback for a record without a reason.
     */
    String resumeReason(RunStateTransition recorded) {
      String suspendedFor =
          reason.orElse(recorded == null ? HearthApi.Reasons.SPEC_CHANGED : recorded.getReason());
      return HearthApi.Reasons.AGENT_SHUTDOWN.equals(suspendedFor)
          ? HearthApi.Reasons.AGENT_STARTED
          : HearthApi.Reasons.SPEC_CHANGED;
    }
  }

  /** Waiting out a back-off; the scheduled start finds this state or does nothing. */
  record BackingOff() implements SupervisorState {}

  /** Ended for good at the applied generation (Succeeded or Failed); a new generation restarts. */
  record Finished() implements SupervisorState {}

  /** Deleted: the guest is stopped and everything freed; nothing moves it any more. */
  record Gone() implements SupervisorState {}

  SupervisorState IDLE = new Idle();
  SupervisorState BACKING_OFF = new BackingOff();
  SupervisorState FINISHED = new Finished();
  SupervisorState GONE = new Gone();

  /**
   * Whether a supervisor in this state may move to {@code next}. A guest boots from Idle and is
   * restored from Suspended, and is stopped (back to Idle) or suspended before anything else can
   * start or the VM can be Gone; Gone is final.
   */
  default boolean allows(SupervisorState next) {
    return switch (this) {
      case Idle i -> true;
      case Running r -> !(next instanceof Running) && !(next instanceof Gone);
      case Paused p -> next instanceof Running || next instanceof Suspended || next instanceof Idle;
      case Suspended s -> next instanceof Running || next instanceof Idle || next instanceof Gone;
      case BackingOff b -> next instanceof Idle || next instanceof Finished || next instanceof Gone;
      case Finished f -> next instanceof Idle || next instanceof Finished || next instanceof Gone;
      case Gone g -> next instanceof Gone; // a delete may be repeated, and frees again
    };
  }

  /**
   * Whether the supervisor has settled for the applied generation (nothing to do until it moves).
   */
  default boolean settled() {
    return !(this instanceof Idle);
  }
}
