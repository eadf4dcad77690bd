package dev.hearth.agent.tls;

/** The serving certificate cannot be made, stored or loaded, or a peer's is not the pinned one. */
public final class TlsException extends RuntimeException {
  public TlsException(String message, Throwable cause) {
    super(message, cause);
  }

  public TlsException(String message) {
    super(message);
  }
}
