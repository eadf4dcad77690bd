package dev.hearth.vmm.arch.x86_64;

import static dev.hearth.vmm.arch.x86_64.X86Layout.*;

import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.MappedGuestMemory;
import java.util.ArrayList;
import java.util.List;

/** Where a guest's RAM goes: below the MMIO gap, and above 4 GiB for what does not fit. */
public final class GuestRam {
  private GuestRam() {}

  /** The RAM ranges for {@code bytes} of guest memory (a multiple of 4 KiB). */
  public static List<MappedGuestMemory.Range> ranges(long bytes) {
    List<MappedGuestMemory.Range> ranges = new ArrayList<>();
    long low = Math.min(bytes, MMIO_GAP_START);
    ranges.add(new MappedGuestMemory.Range(GuestAddress.of(0), low));
    if (bytes > low) {
      ranges.add(new MappedGuestMemory.Range(GuestAddress.of(MMIO_GAP_END), bytes - low));
    }
    return ranges;
  }

  /** The e820 map the guest gets for {@code bytes} of RAM. */
  public static List<E820Entry> e820(long bytes) {
    List<E820Entry> map = new ArrayList<>();
    map.add(new E820Entry(0, EBDA_START, E820Entry.RAM));
    long low = Math.min(bytes, MMIO_GAP_START);
    if (low > HIMEM_START) {
      map.add(new E820Entry(HIMEM_START, low - HIMEM_START, E820Entry.RAM));
    }
    if (bytes > low) {
      map.add(new E820Entry(MMIO_GAP_END, bytes - low, E820Entry.RAM));
    }
    return map;
  }

  /** The end of RAM below the MMIO gap. */
  public static long lowRamEnd(long bytes) {
    return Math.min(bytes, MMIO_GAP_START);
  }
}
