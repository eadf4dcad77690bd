package dev.hearth.vmm.loader;

/** A kernel, initrd or command line that cannot be loaded, with the reason. */
public class LoaderException extends RuntimeException {
  public LoaderException(String message) {
    super(message);
  }

  public LoaderException(String message, Throwable cause) {
    super(message, cause);
  }
}
