package dev.hearth.vmm.harness;

/**
 * The nested-KVM harness could not run a command to completion: L1 did not boot, KVM did not
 * appear, time ran out, or the harness itself failed. The message names the outcome, the reason the
 * harness gave and the last lines of output.
 */
public class NestedHarnessException extends RuntimeException {
  private final transient NestedRun run;

  NestedHarnessException(String message, NestedRun run) {
    super(message);
    this.run = run;
  }

  NestedHarnessException(String message, Throwable cause) {
    super(message, cause);
    this.run = null;
  }

  /** The failed run, or null when the harness process could not even be started. */
  public NestedRun run() {
    return run;
  }
}
