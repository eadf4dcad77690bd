package dev.hearth.vmm.arch.x86_64;

import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Linux's zero page ({@code struct boot_params}), built in a buffer and then written to the guest.
 * Offsets are those of the x86 boot protocol ({@code Documentation/arch/x86/boot.rst}).
 */
public final class BootParams {
  public static final int SIZE = 4096;

  static final int E820_ENTRIES = 0x1e8;
  static final int SETUP_HEADER = 0x1f1;
  static final int BOOT_FLAG = 0x1fe;
  static final int HEADER_MAGIC = 0x202;
  static final int TYPE_OF_LOADER = 0x210;
  static final int LOADFLAGS = 0x211;
  static final int RAMDISK_IMAGE = 0x218;
  static final int RAMDISK_SIZE = 0x21c;
  static final int CMD_LINE_PTR = 0x228;
  static final int KERNEL_ALIGNMENT = 0x230;
  static final int CMDLINE_SIZE = 0x238;
  static final int E820_TABLE = 0x2d0;
  static final int E820_MAX = 128;

  /** "HdrS": the setup header's magic. */
  public static final int HDRS = 0x53726448;

  private final ByteBuffer buf = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);

  /** Zero page for an ELF kernel: a minimal setup header of our own. */
  public BootParams() {
    buf.putShort(BOOT_FLAG, (short) 0xaa55);
    buf.putInt(HEADER_MAGIC, HDRS);
    buf.putInt(KERNEL_ALIGNMENT, 0x0100_0000);
  }

  /**
   * Zero page for a bzImage: starts from the image's own setup header ({@code header}, the bytes at
   * file offset 0x1f1 onwards, already bounds-checked by the loader).
   */
  public BootParams(byte[] header) {
    this();
    int len = Math.min(header.length, SIZE - SETUP_HEADER);
    buf.put(SETUP_HEADER, header, 0, len);
  }

  /** Sets the command line's address and length (without terminator). */
  public BootParams cmdline(long address, int length) {
    buf.putInt(CMD_LINE_PTR, (int) address);
    buf.putInt(CMDLINE_SIZE, length);
    return this;
  }

  /** Sets the initrd's address and size. */
  public BootParams initrd(long address, long size) {
    buf.putInt(RAMDISK_IMAGE, (int) address);
    buf.putInt(RAMDISK_SIZE, (int) size);
    return this;
  }

  /** Marks the loader as "undefined" (0xff), as VMMs do, and keeps the kernel's load flags. */
  public BootParams loader() {
    buf.put(TYPE_OF_LOADER, (byte) 0xff);
    return this;
  }

  /** Sets the e820 map. */
  public BootParams e820(List<E820Entry> entries) {
    if (entries.size() > E820_MAX) {
      throw new IllegalArgumentException("too many e820 entries: " + entries.size());
    }
    buf.put(E820_ENTRIES, (byte) entries.size());
    for (int i = 0; i < entries.size(); i++) {
      E820Entry e = entries.get(i);
      int o = E820_TABLE + 20 * i;
      buf.putLong(o, e.address());
      buf.putLong(o + 8, e.size());
      buf.putInt(o + 16, e.type());
    }
    return this;
  }

  /** The zero page's bytes. */
  public byte[] bytes() {
    return buf.array().clone();
  }

  /** Writes the zero page at {@link X86Layout#ZERO_PAGE_START}. */
  public void writeTo(GuestMemory memory) {
    memory.write(GuestAddress.of(X86Layout.ZERO_PAGE_START), buf.array(), 0, SIZE);
  }
}
