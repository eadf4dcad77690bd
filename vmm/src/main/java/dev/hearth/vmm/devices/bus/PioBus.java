package dev.hearth.vmm.devices.bus;

/** The x86 I/O port bus (ports 0 to 0xffff). */
public final class PioBus extends Bus {
  public PioBus() {
    super("PIO");
  }
}
