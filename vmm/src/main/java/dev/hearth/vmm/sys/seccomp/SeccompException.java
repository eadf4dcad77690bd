package dev.hearth.vmm.sys.seccomp;

/** A seccomp filter that could not be built or installed; the message says which and why. */
public class SeccompException extends RuntimeException {
  public SeccompException(String message) {
    super(message);
  }
}
