package dev.hearth.operator.network;

/** A cluster network setting or address that cannot be used; the message says which and why. */
public final class NetworkException extends RuntimeException {
  public NetworkException(String message) {
    super(message);
  }
}
