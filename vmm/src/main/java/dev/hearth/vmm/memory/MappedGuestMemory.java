package dev.hearth.vmm.memory;

import dev.hearth.vmm.sys.LibC;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Guest memory backed by anonymous private mmaps, one per region, that this object owns and unmaps
 * on {@link #close}. Pages are reserved lazily ({@code MAP_NORESERVE}), so an idle guest costs only
 * the pages it touched.
 */
public final class MappedGuestMemory implements AutoCloseable {
  private static final long PAGE = 4096;
  // pagemap bits 63 (present) and 62 (swapped).
  private static final long PRESENT_OR_SWAPPED = 3L << 62;
  private static final MemorySegment ZERO_PAGE = MemorySegment.ofArray(new byte[(int) PAGE]);

  private final GuestMemory memory;
  private final List<MemorySegment> mappings;
  private volatile boolean closed;

  // Whether the regions are private copies of a file (a restored VM) rather than anonymous memory.
  private final boolean fileBacked;

  private MappedGuestMemory(GuestMemory memory, List<MemorySegment> mappings, boolean fileBacked) {
    this.memory = memory;
    this.mappings = mappings;
    this.fileBacked = fileBacked;
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
      return new MappedGuestMemory(GuestMemory.of(regions), List.copyOf(mappings), false);
    } catch (RuntimeException e) {
      mappings.forEach(LibC::munmap);
      throw e;
    }
  }

  /**
   * Maps the ranges copy-on-write from {@code file}, one after another from offset 0 (the layout
   * {@link #writeTo} produces): the kernel reads a page in when the guest first touches it, and the
   * guest's writes stay in this process. The file must hold every range.
   *
   * @throws GuestMemoryException if the file is shorter than the ranges or cannot be opened
   * @throws dev.hearth.vmm.sys.SysException if the host refuses the mapping
   */
  public static MappedGuestMemory mapFile(List<Range> ranges, Path file) {
    long total = ranges.stream().mapToLong(Range::size).sum();
    long size;
    try {
      size = Files.size(file);
    } catch (IOException e) {
      throw new GuestMemoryException("cannot read guest memory file " + file + ": " + e, e);
    }
    if (size != total) {
      throw new GuestMemoryException(
          "guest memory file " + file + " has " + size + " bytes; the VM has " + total);
    }
    int fd = LibC.open(file.toString(), LibC.O_CLOEXEC);
    List<MemorySegment> mappings = new ArrayList<>();
    List<GuestRegion> regions = new ArrayList<>();
    try {
      long offset = 0;
      for (Range r : ranges) {
        MemorySegment host =
            LibC.mmap(
                r.size(),
                LibC.PROT_READ | LibC.PROT_WRITE,
                LibC.MAP_PRIVATE | LibC.MAP_NORESERVE,
                fd,
                offset);
        mappings.add(host);
        regions.add(new GuestRegion(r.start(), host));
        offset += r.size();
      }
      return new MappedGuestMemory(GuestMemory.of(regions), List.copyOf(mappings), true);
    } catch (RuntimeException e) {
      mappings.forEach(LibC::munmap);
      throw e;
    } finally {
      // The mappings keep the file; the descriptor is not needed any more.
      LibC.close(fd);
    }
  }

  /**
   * Writes every region, in order, to {@code file} (created or truncated), skipping pages that are
   * all zeros so that the file stays sparse where the guest never wrote. In anonymous memory, pages
   * that were never touched (neither present nor swapped, says {@code /proc/self/pagemap}) are
   * skipped without reading them, which would fault each in; a file-backed copy is read whole,
   * since its untouched pages hold the file's data.
   */
  public void writeTo(Path file) throws IOException {
    byte[] page = new byte[(int) PAGE];
    try (FileChannel ch =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      long offset = 0;
      for (GuestRegion r : memory.regions()) {
        MemorySegment host = r.host();
        long[] pagemap = fileBacked ? null : pagemap(host);
        for (long off = 0; off < host.byteSize(); off += PAGE) {
          if (pagemap != null && (pagemap[(int) (off / PAGE)] & PRESENT_OR_SWAPPED) == 0) {
            continue;
          }
          MemorySegment src = host.asSlice(off, PAGE);
          if (src.mismatch(ZERO_PAGE) == -1) {
            continue;
          }
          MemorySegment.copy(src, ValueLayout.JAVA_BYTE, 0, page, 0, page.length);
          ByteBuffer buf = ByteBuffer.wrap(page);
          long at = offset + off;
          while (buf.hasRemaining()) {
            at += ch.write(buf, at);
          }
        }
        offset += host.byteSize();
      }
      if (ch.size() < offset) {
        // Trailing zero pages: extend the file (sparsely) to the full size.
        ch.write(ByteBuffer.allocate(1), offset - 1);
      }
    }
  }

  /** This process's pagemap entries for {@code host}, or null where pagemap cannot be read. */
  private static long[] pagemap(MemorySegment host) {
    int pages = (int) (host.byteSize() / PAGE);
    ByteBuffer buf = ByteBuffer.allocate(pages * 8).order(java.nio.ByteOrder.nativeOrder());
    try (FileChannel ch = FileChannel.open(Path.of("/proc/self/pagemap"))) {
      long at = host.address() / PAGE * 8;
      while (buf.hasRemaining()) {
        int n = ch.read(buf, at + buf.position());
        if (n <= 0) {
          return null;
        }
      }
    } catch (IOException e) {
      return null; // no pagemap: read every page
    }
    long[] entries = new long[pages];
    buf.flip().asLongBuffer().get(entries);
    return entries;
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
