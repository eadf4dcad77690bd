package dev.hearth.agent.image;

import dev.hearth.api.v1alpha1.HearthApi;

/**
 * An image could not be provided. {@link #reason()} is a CamelCase word for a status condition,
 * distinct per kind of failure, so a user sees at a glance whether to fix a URL, a digest or the
 * network.
 */
public class ImageException extends Exception {
  private final String reason;

  public ImageException(String reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }

  /** The server said 404/410, or a node file does not exist. */
  public static final class NotFound extends ImageException {
    public NotFound(String message) {
      super(HearthApi.Reasons.IMAGE_NOT_FOUND, message, null);
    }
  }

  /** The content does not hash to the declared sha256. */
  public static final class ChecksumMismatch extends ImageException {
    public ChecksumMismatch(String message) {
      super(HearthApi.Reasons.IMAGE_CHECKSUM_MISMATCH, message, null);
    }
  }

  /** Connecting, waiting for data, or the whole download took too long. */
  public static final class Timeout extends ImageException {
    public Timeout(String message, Throwable cause) {
      super(HearthApi.Reasons.IMAGE_DOWNLOAD_TIMEOUT, message, cause);
    }
  }

  /** Any other failure: an HTTP error status, a refused connection, a full disk. */
  public static final class FetchFailed extends ImageException {
    public FetchFailed(String message, Throwable cause) {
      super(HearthApi.Reasons.IMAGE_FETCH_FAILED, message, cause);
    }
  }
}
