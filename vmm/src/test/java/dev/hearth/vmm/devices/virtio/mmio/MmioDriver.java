package dev.hearth.vmm.devices.virtio.mmio;

import dev.hearth.vmm.devices.virtio.DeviceStatus;
import dev.hearth.vmm.devices.virtio.queue.MockDriver;
import java.util.List;

/** Plays a guest driver's register accesses on an {@link MmioTransport}. Test-only. */
public final class MmioDriver {
  private final MmioTransport t;

  public MmioDriver(MmioTransport t) {
    this.t = t;
  }

  public int read32(int offset) {
    byte[] d = new byte[4];
    t.read(offset, d);
    return (d[0] & 0xff) | (d[1] & 0xff) << 8 | (d[2] & 0xff) << 16 | (d[3] & 0xff) << 24;
  }

  public void write32(int offset, int v) {
    t.write(offset, new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)});
  }

  public long deviceFeatures() {
    write32(MmioRegisters.DEVICE_FEATURES_SEL, 0);
    long lo = read32(MmioRegisters.DEVICE_FEATURES) & 0xffffffffL;
    write32(MmioRegisters.DEVICE_FEATURES_SEL, 1);
    long hi = read32(MmioRegisters.DEVICE_FEATURES) & 0xffffffffL;
    return lo | hi << 32;
  }

  public void driverFeatures(long f) {
    write32(MmioRegisters.DRIVER_FEATURES_SEL, 0);
    write32(MmioRegisters.DRIVER_FEATURES, (int) f);
    write32(MmioRegisters.DRIVER_FEATURES_SEL, 1);
    write32(MmioRegisters.DRIVER_FEATURES, (int) (f >>> 32));
  }

  public void status(int s) {
    write32(MmioRegisters.STATUS, s);
  }

  public int status() {
    return read32(MmioRegisters.STATUS);
  }

  /** Writes queue {@code index}'s registers from {@code q}'s layout and sets it ready. */
  public void setUpQueue(int index, MockDriver q) {
    write32(MmioRegisters.QUEUE_SEL, index);
    write32(MmioRegisters.QUEUE_NUM, q.size());
    write32(MmioRegisters.QUEUE_DESC_LOW, (int) q.descTable());
    write32(MmioRegisters.QUEUE_DESC_HIGH, (int) (q.descTable() >>> 32));
    write32(MmioRegisters.QUEUE_DRIVER_LOW, (int) q.availRing());
    write32(MmioRegisters.QUEUE_DRIVER_HIGH, (int) (q.availRing() >>> 32));
    write32(MmioRegisters.QUEUE_DEVICE_LOW, (int) q.usedRing());
    write32(MmioRegisters.QUEUE_DEVICE_HIGH, (int) (q.usedRing() >>> 32));
    write32(MmioRegisters.QUEUE_READY, 1);
  }

  /**
   * The whole Linux-style bring-up: reset, ACK, DRIVER, features (what the device offers, masked by
   * {@code want}), FEATURES_OK, queues, DRIVER_OK. Returns the negotiated features.
   */
  public long bringUp(long want, List<MockDriver> queues) {
    status(0);
    status(DeviceStatus.ACKNOWLEDGE);
    status(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
    long f = deviceFeatures() & want;
    driverFeatures(f);
    int s = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK;
    status(s);
    if (status() != s) {
      throw new IllegalStateException("device refused FEATURES_OK for " + Long.toHexString(f));
    }
    for (int i = 0; i < queues.size(); i++) {
      setUpQueue(i, queues.get(i));
    }
    status(s | DeviceStatus.DRIVER_OK);
    return f;
  }

  /** Writes QueueNotify for {@code index}. */
  public void notify(int index) {
    write32(MmioRegisters.QUEUE_NOTIFY, index);
  }

  public int ackInterrupts() {
    int isr = read32(MmioRegisters.INTERRUPT_STATUS);
    write32(MmioRegisters.INTERRUPT_ACK, isr);
    return isr;
  }

  /** Reads {@code len} bytes of configuration space one byte at a time. */
  public byte[] config(int offset, int len) {
    byte[] out = new byte[len];
    for (int i = 0; i < len; i++) {
      byte[] b = new byte[1];
      t.read(MmioRegisters.CONFIG + offset + i, b);
      out[i] = b[0];
    }
    return out;
  }
}
