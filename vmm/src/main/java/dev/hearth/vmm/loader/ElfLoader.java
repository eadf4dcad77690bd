package dev.hearth.vmm.loader;

import dev.hearth.vmm.arch.x86_64.X86Layout;
import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestMemory;
import dev.hearth.vmm.memory.GuestMemoryException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Loads an ELF64 x86_64 executable (a {@code vmlinux}, or a test guest) by copying each {@code
 * PT_LOAD} segment's file bytes to its physical address. The rest of its memory size (the bss) is
 * left as fresh guest memory has it, zero, as Firecracker's loader does: filling it would fault in
 * pages the kernel clears itself (0.26 ms a boot for the test vmlinux's 696 KiB of bss, 40% of the
 * tiny bench guest's load). Entry is {@code e_entry}, in 64-bit mode. Every header field is checked
 * against the file and guest memory, and segments must not overlap, so a hostile image cannot make
 * the loader copy over the same memory again and again: the work is bounded by guest memory,
 * whatever the number of segments.
 */
final class ElfLoader {
  private static final int PT_LOAD = 1;
  private static final int EM_X86_64 = 62;

  private ElfLoader() {}

  static boolean isElf(byte[] image) {
    return image.length >= 4
        && image[0] == 0x7f
        && image[1] == 'E'
        && image[2] == 'L'
        && image[3] == 'F';
  }

  static LoadedKernel load(Image file, GuestMemory memory) {
    String name = file.name();
    if (file.size() < 64) {
      throw new LoaderException(name + ": ELF header truncated");
    }
    byte[] image = file.read(0, 64);
    ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
    if (image[4] != 2 || image[5] != 1) {
      throw new LoaderException(name + ": not a little-endian 64-bit ELF");
    }
    if (b.getShort(18) != EM_X86_64) {
      throw new LoaderException(name + ": ELF machine " + b.getShort(18) + " is not x86_64");
    }
    long entry = b.getLong(24);
    long phoff = b.getLong(32);
    int phentsize = Short.toUnsignedInt(b.getShort(54));
    int phnum = Short.toUnsignedInt(b.getShort(56));
    if (phentsize < 56
        || phoff < 0
        || phoff > file.size()
        || (long) phentsize * phnum > file.size() - phoff) {
      throw new LoaderException(name + ": program headers lie outside the file");
    }
    List<Segment> segments = new ArrayList<>();
    for (int i = 0; i < phnum; i++) {
      ByteBuffer ph =
          ByteBuffer.wrap(file.read(phoff + (long) i * phentsize, 56))
              .order(ByteOrder.LITTLE_ENDIAN);
      if (ph.getInt(0) != PT_LOAD) {
        continue;
      }
      long offset = ph.getLong(8);
      long paddr = ph.getLong(24);
      long filesz = ph.getLong(32);
      long memsz = ph.getLong(40);
      if (offset < 0 || filesz < 0 || offset > file.size() || filesz > file.size() - offset) {
        throw new LoaderException(name + ": segment " + i + " lies outside the file");
      }
      if (memsz < filesz) {
        throw new LoaderException(name + ": segment " + i + " has memsz below filesz");
      }
      if (Long.compareUnsigned(paddr, X86Layout.HIMEM_START) < 0) {
        throw new LoaderException(
            name
                + ": segment "
                + i
                + " loads at 0x"
                + Long.toHexString(paddr)
                + ", below 0x"
                + Long.toHexString(X86Layout.HIMEM_START));
      }
      GuestAddress at = GuestAddress.of(paddr);
      if (memsz > 0 && !memory.isValid(at, memsz)) {
        throw new LoaderException(
            name
                + ": segment "
                + i
                + " ("
                + memsz
                + " bytes at "
                + at
                + ") does not fit in guest memory");
      }
      segments.add(new Segment(i, offset, paddr, filesz, memsz));
    }
    if (segments.isEmpty()) {
      throw new LoaderException(name + ": no loadable segments");
    }
    long end = checkDisjoint(segments, name);
    for (Segment seg : segments) {
      GuestAddress at = GuestAddress.of(seg.paddr());
      try {
        file.copyTo(seg.offset(), seg.filesz(), memory, at); // once per byte: they are disjoint
      } catch (GuestMemoryException e) {
        throw new LoaderException(name + ": segment " + seg.index() + ": " + e.getMessage(), e);
      }
    }
    if (!memory.isValid(GuestAddress.of(entry), 1)) {
      throw new LoaderException(
          name + ": entry point 0x" + Long.toHexString(entry) + " is not in guest memory");
    }
    return new LoadedKernel(entry, end, Optional.empty(), X86Layout.MMIO_GAP_START - 1);
  }

  private record Segment(int index, long offset, long paddr, long filesz, long memsz) {}

  /**
   * Refuses segments that overlap (each was checked to lie in guest memory, so disjoint ones copy
   * and zero at most guest memory's size in all, whatever their number); returns the end of the
   * highest.
   */
  private static long checkDisjoint(List<Segment> segments, String name) {
    List<Segment> sorted = new ArrayList<>(segments);
    sorted.sort(Comparator.comparingLong(Segment::paddr));
    long end = 0;
    long highest = 0;
    Segment last = null;
    for (Segment seg : sorted) {
      highest = Math.max(highest, seg.paddr() + seg.memsz());
      if (seg.memsz() == 0) {
        continue;
      }
      if (last != null && seg.paddr() < end) {
        throw new LoaderException(
            name
                + ": segments "
                + last.index()
                + " and "
                + seg.index()
                + " overlap at 0x"
                + Long.toHexString(seg.paddr()));
      }
      end = seg.paddr() + seg.memsz();
      last = seg;
    }
    return highest;
  }
}
