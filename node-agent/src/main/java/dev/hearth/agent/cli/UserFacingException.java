package dev.hearth.agent.cli;

/** A failure the user caused or can fix; printed as one line, never as a stack trace. */
public class UserFacingException extends RuntimeException {
  /** Exit status for bad input: a manifest, a path, a permission. */
  public static final int BAD_INPUT = 2;

  /** Exit status when Hearth cannot do what was asked on this machine yet or at all. */
  public static final int UNAVAILABLE = 3;

  /**
   * Exit status when KVM works here but cannot run the guest's kernel (Linux on a KVM that only
   * emulates); {@code ./hearth} then boots the VM in the nested-KVM harness.
   */
  public static final int KVM_CANNOT_RUN_GUEST = 5;

  private final int exitCode;

  public UserFacingException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  public int exitCode() {
    return exitCode;
  }
}
