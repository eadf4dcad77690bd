package dev.hearth.vmm.devices.virtio;

/** Device-independent feature bits (virtio 1.x, section 6) and helpers. */
public final class VirtioFeatures {
  /** Descriptors may point to indirect tables. */
  public static final int RING_INDIRECT_DESC = 28;

  /** used_event / avail_event notification suppression. */
  public static final int RING_EVENT_IDX = 29;

  /** A virtio 1.x (non-legacy) device; required by the MMIO v2 transport. */
  public static final int VERSION_1 = 32;

  private VirtioFeatures() {}

  /** The mask with {@code bit} set. */
  public static long bit(int bit) {
    return 1L << bit;
  }

  /** Whether {@code features} has {@code bit}. */
  public static boolean has(long features, int bit) {
    return (features & bit(bit)) != 0;
  }
}
