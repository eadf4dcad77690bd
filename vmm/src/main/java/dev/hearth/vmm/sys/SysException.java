package dev.hearth.vmm.sys;

/**
 * A libc call that failed. It carries the call, the file descriptor it was made on (or -1), the
 * errno and its {@code strerror} text, so that the message alone says what went wrong.
 */
public class SysException extends RuntimeException {
  private final String call;
  private final int fd;
  private final int errno;

  public SysException(String call, int fd, int errno, String errnoText) {
    super(
        call
            + (fd >= 0 ? " on fd " + fd : "")
            + " failed: "
            + errnoText
            + " (errno "
            + errno
            + ")");
    this.call = call;
    this.fd = fd;
    this.errno = errno;
  }

  /** The failed call, such as {@code ioctl(KVM_RUN)}. */
  public String call() {
    return call;
  }

  /** The file descriptor the call was made on, or -1. */
  public int fd() {
    return fd;
  }

  /** The errno value. */
  public int errno() {
    return errno;
  }
}
