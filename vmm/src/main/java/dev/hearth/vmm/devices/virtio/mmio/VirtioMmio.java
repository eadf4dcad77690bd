package dev.hearth.vmm.devices.virtio.mmio;

/** Facts about virtio-mmio slots that the VM's wiring needs. */
public final class VirtioMmio {
  /** Bytes of MMIO space each device occupies (registers plus configuration space). */
  public static final long SLOT_SIZE = 0x1000;

  /**
   * Offset of QueueNotify within a slot. The VM registers an ioeventfd there for each queue, with
   * datamatch on the queue index (4-byte write), and calls {@link MmioTransport#queueNotify(int)}
   * from its event loop when it fires.
   */
  public static final long QUEUE_NOTIFY_OFFSET = MmioRegisters.QUEUE_NOTIFY;

  private VirtioMmio() {}

  /**
   * The kernel command-line token that announces a device: {@code
   * virtio_mmio.device=<size>@<addr>:<irq>}, with the size in KiB when it is a whole number of
   * them.
   */
  public static String kernelCmdlineToken(long size, long addr, int irq) {
    if (size <= 0 || addr < 0 || irq < 0) {
      throw new IllegalArgumentException(
          "bad virtio-mmio slot: size "
              + size
              + " addr 0x"
              + Long.toHexString(addr)
              + " irq "
              + irq);
    }
    String sizeText = size % 1024 == 0 ? (size / 1024) + "K" : Long.toString(size);
    return "virtio_mmio.device=" + sizeText + "@0x" + Long.toHexString(addr) + ":" + irq;
  }
}
