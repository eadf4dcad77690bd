package dev.hearth.vmm.memory;

/** A guest-memory access that cannot be honoured: out of range, overflowing, or misplaced. */
public class GuestMemoryException extends RuntimeException {
  public GuestMemoryException(String message) {
    super(message);
  }

  public GuestMemoryException(String message, Throwable cause) {
    super(message, cause);
  }
}
