package dev.hearth.vmm.devices.bus;

/**
 * A device on the PIO or MMIO bus. The bus hands it accesses relative to the start of its range,
 * from vCPU threads; a device that is also driven from the event loop synchronises itself.
 *
 * <p>The offset and size come from the guest, so a device checks them against its own registers: an
 * access it does not implement reads as all ones and is otherwise ignored.
 */
public interface BusDevice {

  /**
   * The guest reads {@code data.length} bytes (1, 2, 4 or 8) at {@code offset}: fill {@code data}.
   */
  void read(long offset, byte[] data);

  /** The guest writes {@code data} (1, 2, 4 or 8 bytes, little-endian) at {@code offset}. */
  void write(long offset, byte[] data);
}
