package dev.hearth.agent.probe;

/** A readiness probe in a spec that the agent cannot run; the message names the field. */
public final class ProbeException extends Exception {
  public ProbeException(String message) {
    super(message);
  }
}
