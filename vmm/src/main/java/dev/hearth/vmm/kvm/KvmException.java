package dev.hearth.vmm.kvm;

/** KVM is missing, too old, or answered something the VMM cannot work with. */
public class KvmException extends RuntimeException {
  public KvmException(String message) {
    super(message);
  }

  public KvmException(String message, Throwable cause) {
    super(message, cause);
  }
}
