package dev.hearth.vmm.devices.bus;

/** The memory-mapped I/O bus: guest-physical addresses that are not RAM. */
public final class MmioBus extends Bus {
  public MmioBus() {
    super("MMIO");
  }
}
