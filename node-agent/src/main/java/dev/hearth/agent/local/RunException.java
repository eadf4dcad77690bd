package dev.hearth.agent.local;

/** Why {@code hearth run} cannot run a VM; the message is one line for the user. */
public class RunException extends Exception {
  public RunException(String message) {
    super(message);
  }

  public RunException(String message, Throwable cause) {
    super(message, cause);
  }
}
