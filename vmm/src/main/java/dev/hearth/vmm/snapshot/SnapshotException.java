package dev.hearth.vmm.snapshot;

/** A snapshot cannot be written, read or applied; the message says which file and why. */
public final class SnapshotException extends RuntimeException {
  public SnapshotException(String message) {
    super(message);
  }

  public SnapshotException(String message, Throwable cause) {
    super(message, cause);
  }
}
