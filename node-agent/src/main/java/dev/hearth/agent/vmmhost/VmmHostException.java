package dev.hearth.agent.vmmhost;

import java.io.IOException;

/** A VMM process broke the protocol, ended, or could not be started; the message says which. */
public class VmmHostException extends IOException {
  public VmmHostException(String message) {
    super(message);
  }

  public VmmHostException(String message, Throwable cause) {
    super(message, cause);
  }
}
