package dev.hearth.agent.local;

/** A MicroVM manifest that {@code hearth run} cannot use; the message names file or field. */
public class ManifestException extends RunException {
  public ManifestException(String message) {
    super(message);
  }

  public ManifestException(String message, Throwable cause) {
    super(message, cause);
  }
}
