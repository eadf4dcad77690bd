package dev.hearth.vmm.loader;

import dev.hearth.vmm.arch.x86_64.X86Layout;
import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Optional;

/**
 * Loads a {@code bzImage} through the x86 boot protocol's 64-bit entry (protocol 2.06 or later):
 * the protected-mode kernel goes to its preferred address, entry is 0x200 past it, and the setup
 * header seeds the zero page. Every header field is checked against the file and guest memory.
 */
final class BzImageLoader {
  static final int SETUP_SECTS = 0x1f1;
  static final int BOOT_FLAG = 0x1fe;
  static final int JUMP = 0x200;
  static final int HEADER = 0x202;
  static final int VERSION = 0x206;
  static final int LOADFLAGS = 0x211;
  static final int INITRD_ADDR_MAX = 0x22c;
  static final int XLOADFLAGS = 0x236;
  static final int PREF_ADDRESS = 0x258;
  static final int INIT_SIZE = 0x260;
  static final int HEADER_END_MAX = 0x290;
  static final int MIN_VERSION = 0x0206;
  static final int LOADED_HIGH = 1;
  static final int XLF_KERNEL_64 = 1;

  private BzImageLoader() {}

  static boolean isBzImage(byte[] image) {
    return image.length > HEADER + 4
        && ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).getInt(HEADER) == 0x53726448;
  }

  /**
   * Loads {@code file}, whose first bytes are {@code image} (up to {@link #HEADER_END_MAX}): the
   * header is read from those, the protected-mode kernel copied from the file.
   */
  static LoadedKernel load(Image file, byte[] image, GuestMemory memory) {
    String name = file.name();
    if (image.length < HEADER_END_MAX) {
      throw new LoaderException(name + ": bzImage shorter than its setup header");
    }
    ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
    if (Short.toUnsignedInt(b.getShort(BOOT_FLAG)) != 0xaa55) {
      throw new LoaderException(name + ": bzImage lacks the 0xAA55 boot flag");
    }
    int version = Short.toUnsignedInt(b.getShort(VERSION));
    if (version < MIN_VERSION) {
      throw new LoaderException(
          name
              + ": boot protocol "
              + (version >> 8)
              + "."
              + (version & 0xff)
              + " is older than 2.06");
    }
    if ((image[LOADFLAGS] & LOADED_HIGH) == 0) {
      throw new LoaderException(name + ": not a bzImage (zImage loads low)");
    }
    if (version >= 0x020c && (b.getShort(XLOADFLAGS) & XLF_KERNEL_64) == 0) {
      throw new LoaderException(name + ": bzImage has no 64-bit entry point");
    }
    int setupSects = Byte.toUnsignedInt(image[SETUP_SECTS]);
    if (setupSects == 0) {
      setupSects = 4;
    }
    long kernelOffset = (setupSects + 1L) * 512;
    if (kernelOffset >= file.size()) {
      throw new LoaderException(name + ": setup sectors run past the end of the file");
    }
    long kernelSize = file.size() - kernelOffset;
    long loadAddress = X86Layout.HIMEM_START;
    long initSize = kernelSize;
    if (version >= 0x020a) {
      long pref = b.getLong(PREF_ADDRESS);
      initSize = Math.max(initSize, Integer.toUnsignedLong(b.getInt(INIT_SIZE)));
      if (Long.compareUnsigned(pref, X86Layout.HIMEM_START) >= 0
          && memory.isValid(GuestAddress.of(pref), initSize)) {
        loadAddress = pref;
      }
    }
    GuestAddress at = GuestAddress.of(loadAddress);
    if (!memory.isValid(at, initSize)) {
      throw new LoaderException(
          name
              + ": the kernel needs "
              + initSize
              + " bytes at "
              + at
              + ", more than guest memory holds");
    }
    file.copyTo(kernelOffset, kernelSize, memory, at);
    int headerEnd = Math.min(JUMP + 2 + Byte.toUnsignedInt(image[JUMP + 1]), HEADER_END_MAX);
    byte[] header = Arrays.copyOfRange(image, SETUP_SECTS, headerEnd);
    long initrdMax = Integer.toUnsignedLong(b.getInt(INITRD_ADDR_MAX));
    if (initrdMax == 0) {
      initrdMax = 0x37ff_ffffL;
    }
    return new LoadedKernel(
        loadAddress + 0x200, loadAddress + initSize, Optional.of(header), initrdMax);
  }
}
