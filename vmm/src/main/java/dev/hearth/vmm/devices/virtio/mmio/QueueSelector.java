package dev.hearth.vmm.devices.virtio.mmio;

import static dev.hearth.vmm.devices.virtio.mmio.MmioRegisters.*;

import dev.hearth.vmm.devices.virtio.queue.Virtqueue;

/**
 * The queue registers of a virtio-mmio transport: QueueSel picks one of the device's queues, and
 * the other queue registers read or configure the one picked. A selector past the last queue picks
 * none: reads give 0 and writes are dropped. Not thread-safe: {@link MmioTransport} holds its lock.
 */
final class QueueSelector {
  private final Virtqueue[] queues;
  private int sel;

  QueueSelector(Virtqueue[] queues) {
    this.queues = queues;
  }

  int sel() {
    return sel;
  }

  void select(int sel) {
    this.sel = sel;
  }

  /** QueueNumMax or QueueReady of the selected queue. */
  int read(int offset) {
    Virtqueue q = selected();
    return switch (offset) {
      case QUEUE_NUM_MAX -> q == null ? 0 : q.maxSize();
      case QUEUE_READY -> q != null && q.ready() ? 1 : 0;
      default -> throw new IllegalArgumentException("not a queue register: " + offset);
    };
  }

  /**
   * Writes a configuration register (QueueNum, QueueReady, or half of a ring address) of the
   * selected queue; any other offset is ignored.
   */
  void configure(int offset, int v) {
    Virtqueue q = selected();
    if (q == null) {
      return;
    }
    switch (offset) {
      case QUEUE_NUM -> q.setSize(v);
      case QUEUE_READY -> q.setReady(v == 1);
      case QUEUE_DESC_LOW -> q.setDescTable(low(q.descTable(), v));
      case QUEUE_DESC_HIGH -> q.setDescTable(high(q.descTable(), v));
      case QUEUE_DRIVER_LOW -> q.setAvailRing(low(q.availRing(), v));
      case QUEUE_DRIVER_HIGH -> q.setAvailRing(high(q.availRing(), v));
      case QUEUE_DEVICE_LOW -> q.setUsedRing(low(q.usedRing(), v));
      case QUEUE_DEVICE_HIGH -> q.setUsedRing(high(q.usedRing(), v));
      default -> {}
    }
  }

  private Virtqueue selected() {
    return sel >= 0 && sel < queues.length ? queues[sel] : null;
  }
}
