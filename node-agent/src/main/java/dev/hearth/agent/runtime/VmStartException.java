package dev.hearth.agent.runtime;

/**
 * The runtime could not boot, restore, pause or suspend a VM; {@code reason} is CamelCase for the
 * status condition.
 */
public class VmStartException extends Exception {
  private final String reason;

  public VmStartException(String reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }
}
