package dev.hearth.agent.http;

/** A request the agent's server refuses, with the HTTP status to answer. */
public final class HttpException extends Exception {
  private final int status;

  public HttpException(int status, String message) {
    super(message);
    this.status = status;
  }

  /** The HTTP status code to answer with. */
  public int status() {
    return status;
  }
}
