package dev.hearth.testkit;

/** A test cluster could not be started, reached or prepared; the message says which and why. */
public class TestClusterException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** A failure with its context in {@code message}. */
  public TestClusterException(String message) {
    super(message);
  }

  /** A failure with its context in {@code message}, caused by {@code cause}. */
  public TestClusterException(String message, Throwable cause) {
    super(message, cause);
  }
}
