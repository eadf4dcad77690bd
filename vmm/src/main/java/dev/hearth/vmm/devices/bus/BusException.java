package dev.hearth.vmm.devices.bus;

/** A bus registration that cannot be honoured, such as overlapping ranges. */
public class BusException extends RuntimeException {
  public BusException(String message) {
    super(message);
  }
}
