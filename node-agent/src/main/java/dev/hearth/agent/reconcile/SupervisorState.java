package dev.hearth.agent.reconcile;

import dev.hearth.agent.runtime.RunningVm;

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
 * </pre>
 */
sealed interface SupervisorState {
  /** Nothing runs and nothing is scheduled: new, or its guest was stopped. */
  record Idle() implements SupervisorState {}

  /** A guest runs; {@code run} numbers it, so that callbacks of a replaced run are ignored. */
  record Running(RunningVm vm, long run) implements SupervisorState {}

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
   * Whether a supervisor in this state may move to {@code next}. A guest starts only from Idle, and
   * is stopped (back to Idle) before anything else can start or the VM can be Gone; Gone is final.
   */
  default boolean allows(SupervisorState next) {
    return switch (this) {
      case Idle i -> true;
      case Running r -> !(next instanceof Running) && !(next instanceof Gone);
      case BackingOff b -> !(next instanceof Running) && !(next instanceof BackingOff);
      case Finished f -> !(next instanceof Running) && !(next instanceof BackingOff);
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
