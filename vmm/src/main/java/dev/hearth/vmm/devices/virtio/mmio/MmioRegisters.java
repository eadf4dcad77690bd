package dev.hearth.vmm.devices.virtio.mmio;

/** Register offsets of the virtio-mmio version 2 layout (virtio 1.x, section 4.2.2). */
final class MmioRegisters {
  static final int MAGIC_VALUE = 0x000;
  static final int VERSION = 0x004;
  static final int DEVICE_ID = 0x008;
  static final int VENDOR_ID = 0x00c;
  static final int DEVICE_FEATURES = 0x010;
  static final int DEVICE_FEATURES_SEL = 0x014;
  static final int DRIVER_FEATURES = 0x020;
  static final int DRIVER_FEATURES_SEL = 0x024;
  static final int QUEUE_SEL = 0x030;
  static final int QUEUE_NUM_MAX = 0x034;
  static final int QUEUE_NUM = 0x038;
  static final int QUEUE_READY = 0x044;
  static final int QUEUE_NOTIFY = 0x050;
  static final int INTERRUPT_STATUS = 0x060;
  static final int INTERRUPT_ACK = 0x064;
  static final int STATUS = 0x070;
  static final int QUEUE_DESC_LOW = 0x080;
  static final int QUEUE_DESC_HIGH = 0x084;
  static final int QUEUE_DRIVER_LOW = 0x090;
  static final int QUEUE_DRIVER_HIGH = 0x094;
  static final int QUEUE_DEVICE_LOW = 0x0a0;
  static final int QUEUE_DEVICE_HIGH = 0x0a4;
  static final int CONFIG_GENERATION = 0x0fc;
  static final int CONFIG = 0x100;

  /** "virt", little-endian. */
  static final int MAGIC = 0x74726976;

  static final int INT_USED_BUFFER = 1;
  static final int INT_CONFIG_CHANGE = 2;

  private MmioRegisters() {}

  /** {@code old} with its low 32 bits replaced by {@code v}. */
  static long low(long old, int v) {
    return (old & 0xffffffff00000000L) | (v & 0xffffffffL);
  }

  /** {@code old} with its high 32 bits replaced by {@code v}. */
  static long high(long old, int v) {
    return (old & 0xffffffffL) | ((long) v << 32);
  }

  /** The little-endian 32-bit register value in {@code d}. */
  static int getInt(byte[] d) {
    return (d[0] & 0xff) | (d[1] & 0xff) << 8 | (d[2] & 0xff) << 16 | (d[3] & 0xff) << 24;
  }

  /** Writes {@code v} into {@code d}, little-endian. */
  static void putInt(byte[] d, int v) {
    d[0] = (byte) v;
    d[1] = (byte) (v >>> 8);
    d[2] = (byte) (v >>> 16);
    d[3] = (byte) (v >>> 24);
  }
}
