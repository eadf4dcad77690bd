package dev.hearth.agent.net;

/** A host networking step failed; the message names the command and what it printed. */
public class NetworkException extends RuntimeException {
  public NetworkException(String message) {
    super(message);
  }

  public NetworkException(String message, Throwable cause) {
    super(message, cause);
  }
}
