package dev.hearth.agent.cli;

/** A failure the user caused or can fix; printed as one line, never as a stack trace. */
public class UserFacingException extends RuntimeException {
  /** Exit status for bad input: a manifest, a path, a permission. */
  public static final int BAD_INPUT = 2;

  /** Exit status when Hearth cannot do what was asked on this machine yet or at all. */
  public static final int UNAVAILABLE = 3;

  private final int exitCode;

  public UserFacingException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  public int exitCode() {
    return exitCode;
  }
}
