package dev.hearth.vmm.vm;

/** A microVM that cannot be created, started or controlled as asked. */
public class VmException extends RuntimeException {
  public VmException(String message) {
    super(message);
  }

  public VmException(String message, Throwable cause) {
    super(message, cause);
  }
}
