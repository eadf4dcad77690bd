package dev.hearth.vmm.arch.x86_64;

/** One entry of the BIOS e820 memory map that the guest reads from boot_params. */
public record E820Entry(long address, long size, int type) {
  public static final int RAM = 1;
  public static final int RESERVED = 2;
}
