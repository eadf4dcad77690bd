package dev.hearth.vmm.loader;

import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestMemory;
import java.nio.file.Path;

/**
 * Where the initrd goes: as high as it fits in low RAM, page-aligned, above the kernel and below
 * the kernel's initrd limit, as Firecracker places it.
 */
public final class InitrdPlacement {
  private static final long PAGE = 4096;

  private InitrdPlacement() {}

  /**
   * The address for an initrd of {@code size} bytes.
   *
   * @param lowRamEnd the end of RAM below the MMIO gap
   * @throws LoaderException if it does not fit
   */
  public static long place(long size, LoadedKernel kernel, long lowRamEnd) {
    long top = Math.min(lowRamEnd, kernel.initrdAddressMax() + 1);
    long address = (top - size) & ~(PAGE - 1);
    if (size <= 0 || size > top || address < kernel.end()) {
      throw new LoaderException(
          "the initrd ("
              + size
              + " bytes) does not fit in guest memory between the kernel's end at 0x"
              + Long.toHexString(kernel.end())
              + " and 0x"
              + Long.toHexString(top));
    }
    return address;
  }

  /**
   * Places the initrd file and streams it into {@code memory} (never whole into the heap); returns
   * its address. Its size is checked against the room there before anything is read.
   */
  public static long load(Path initrd, LoadedKernel kernel, GuestMemory memory, long lowRamEnd) {
    try (Image image = Image.open(initrd, "initrd")) {
      long address = place(image.size(), kernel, lowRamEnd);
      image.copyTo(0, image.size(), memory, GuestAddress.of(address));
      return address;
    }
  }

  /** Places {@code initrd} and copies it into {@code memory}; returns its address. */
  public static long load(byte[] initrd, LoadedKernel kernel, GuestMemory memory, long lowRamEnd) {
    long address = place(initrd.length, kernel, lowRamEnd);
    Image.of(initrd, "initrd").copyTo(0, initrd.length, memory, GuestAddress.of(address));
    return address;
  }
}
