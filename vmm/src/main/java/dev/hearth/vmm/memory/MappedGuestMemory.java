package dev.hearth.vmm.memory;

import dev.hearth.vmm.sys.LibC;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Guest memory backed by anonymous private mmaps, one per region, that this object owns and unmaps
 * on {@link #close}. Pages are reserved lazily ({@code MAP_NORESERVE}), so an idle guest costs only
 * the pages it touched.
 */
public final class MappedGuestMemory implements AutoCloseable {
  private static final long PAGE = 4096;

  private final GuestMemory memory;
  private final List<MemorySegment> mappings;
  private volatile boolean closed;

  private MappedGuestMemory(GuestMemory memory, List<MemorySegment> mappings) {
    this.memory = memory;
    this.mappings = mappings;
  }

  /** A range of guest-physical memory to map: its start and size, both page-aligned. */
  public record Range(GuestAddress start, long size) {
    public Range {
      if (size <= 0 || size % PAGE != 0 || start.raw() % PAGE != 0) {
        throw new GuestMemoryException(
            "guest memory range at " + start + " of " + size + " bytes is not page-aligned");
      }
    }
  }

  /**
   * Maps one anonymous region per range.
   *
   * @throws GuestMemoryException if ranges overlap or are misaligned
   * @throws dev.hearth.vmm.sys.SysException if the host refuses the mapping
   */
  public static MappedGuestMemory map(List<Range> ranges) {
    List<MemorySegment> mappings = new ArrayList<>();
    List<GuestRegion> regions = new ArrayList<>();
    try {
      for (Range r : ranges) {
        MemorySegment host =
            LibC.mmap(
                r.size(),
                LibC.PROT_READ | LibC.PROT_WRITE,
                LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE,
                -1,
                0);
        mappings.add(host);
        regions.add(new GuestRegion(r.start(), host));
      }
      return new MappedGuestMemory(GuestMemory.of(regions), List.copyOf(mappings));
    } catch (RuntimeException e) {
      mappings.forEach(LibC::munmap);
      throw e;
    }
  }

  /** The bounds-checked view of this memory. Not usable after {@link #close}. */
  public GuestMemory memory() {
    return memory;
  }

  /** Unmaps every region. The guest must no longer run, and no device may touch memory. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      mappings.forEach(LibC::munmap);
    }
  }
}
