package dev.hearth.agent.reconcile;

import dev.hearth.agent.console.ConsoleBuffer;
import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.runtime.RunningVm;

/**
 * Where a supervised VM is ({@link SupervisorState}) and which of its runs is the latest: runs are
 * numbered, so that the callbacks of a run that was replaced or stopped are told apart and ignored.
 * The state changes only through {@link #moveTo}, which refuses a move the state does not allow and
 * gives the console's input to the guest only while a run of it is attached.
 */
final class RunTracker {
  private final ConsoleRegistry consoles;
  private final String namespace;
  private final String name;
  private SupervisorState state = SupervisorState.IDLE;
  private long run;

  RunTracker(ConsoleRegistry consoles, String namespace, String name) {
    this.consoles = consoles;
    this.namespace = namespace;
    this.name = name;
  }

  SupervisorState state() {
    return state;
  }

  /** The one way the state changes. */
  void moveTo(SupervisorState next) {
    if (!state.allows(next)) {
      throw new IllegalStateException(
          namespace + "/" + name + ": no move from " + state + " to " + next);
    }
    state = next;
    if (next instanceof SupervisorState.Running r) {
      consoles.open(namespace, name).attachInput(r.vm()::offerConsoleInput);
    } else {
      consoles.find(namespace, name).ifPresent(ConsoleBuffer::detachInput);
    }
  }

  /** A new run of {@code vm} is Running; returns its number. */
  long begin(RunningVm vm) {
    long id = ++run;
    moveTo(new SupervisorState.Running(vm, id));
    return id;
  }

  /** The latest run ends by our hand (its exit is ours, not the guest's); the VM moves to next. */
  void end(SupervisorState next) {
    run++;
    moveTo(next);
  }

  /** The number of the latest run (of one that ended by our hand: one past it). */
  long latest() {
    return run;
  }

  boolean isLatest(long id) {
    return id == run;
  }

  /** Whether run {@code id} is the guest that runs now (not paused). */
  boolean isRunning(long id) {
    return state instanceof SupervisorState.Running r && r.run() == id;
  }

  /** The guest of a Running or Paused VM; null in any other state. */
  RunningVm live() {
    return switch (state) {
      case SupervisorState.Running r -> r.vm();
      case SupervisorState.Paused p -> p.vm();
      default -> null;
    };
  }
}
