package dev.hearth.vmm.devices.virtio.queue;

/**
 * One descriptor chain is malformed. Its head index is known, so the device fails just that
 * request: it returns the head to the used ring (with length 0) and carries on.
 */
public final class InvalidChainException extends VirtqueueException {
  private final int head;

  InvalidChainException(int head, String message) {
    this(head, message, null);
  }

  InvalidChainException(int head, String message, Throwable cause) {
    super("descriptor chain at head " + head + ": " + message, cause);
    this.head = head;
  }

  /** The head index to return to the used ring. */
  public int head() {
    return head;
  }
}
