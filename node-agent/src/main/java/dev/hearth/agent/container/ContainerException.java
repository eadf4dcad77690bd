package dev.hearth.agent.container;

/** A container VM cannot be prepared: its image config or the merged process is unusable. */
public final class ContainerException extends Exception {
  public ContainerException(String message) {
    super(message);
  }

  public ContainerException(String message, Throwable cause) {
    super(message, cause);
  }
}
