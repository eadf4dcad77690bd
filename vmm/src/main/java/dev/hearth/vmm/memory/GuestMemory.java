package dev.hearth.vmm.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The guest's physical memory: a few non-overlapping regions. Every access is bounds-checked
 * against them, since every address that comes from the guest is hostile. An access must lie within
 * one region; one that spans a gap or runs off the end fails with {@link GuestMemoryException} and
 * touches nothing.
 *
 * <p>Multi-byte values are little-endian, as on x86. Who maps the host memory (mmap for a VM, an
 * arena in tests) and who unmaps it is the creator's business, not this class's.
 *
 * <p>Every write through this class, and every {@link #writableSlice}, is recorded in {@link
 * #dirtyPages} once tracking is on, for diff snapshots: reads go through {@link #slice}.
 */
public final class GuestMemory {
  private static final ValueLayout.OfShort SHORT =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfInt INT =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong LONG =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private final GuestRegion[] regions;
  private final DirtyPages dirty;

  private GuestMemory(GuestRegion[] regions) {
    this.regions = regions;
    this.dirty = new DirtyPages(List.of(regions));
  }

  /** The pages the VMM wrote, region by region in address order; tracked once started. */
  public DirtyPages dirtyPages() {
    return dirty;
  }

  /**
   * Guest memory made of {@code regions}.
   *
   * @throws GuestMemoryException if there are none or two of them overlap
   */
  public static GuestMemory of(List<GuestRegion> regions) {
    if (regions.isEmpty()) {
      throw new GuestMemoryException("guest memory needs at least one region");
    }
    List<GuestRegion> sorted = new ArrayList<>(regions);
    sorted.sort(Comparator.comparing(GuestRegion::start));
    for (int i = 1; i < sorted.size(); i++) {
      GuestRegion prev = sorted.get(i - 1);
      GuestRegion next = sorted.get(i);
      if (next.start().compareTo(prev.end()) < 0) {
        throw new GuestMemoryException(
            "guest regions overlap: ["
                + prev.start()
                + ", "
                + prev.end()
                + ") and ["
                + next.start()
                + ", "
                + next.end()
                + ")");
      }
    }
    return new GuestMemory(sorted.toArray(GuestRegion[]::new));
  }

  /** The regions, in address order. */
  public List<GuestRegion> regions() {
    return List.of(regions);
  }

  /** Total bytes of guest memory across all regions. */
  public long totalSize() {
    long total = 0;
    for (GuestRegion r : regions) {
      total += r.size();
    }
    return total;
  }

  /** The last address that is backed by memory, plus one. */
  public GuestAddress end() {
    return regions[regions.length - 1].end();
  }

  /** Whether {@code [addr, addr + len)} lies wholly in one region. */
  public boolean isValid(GuestAddress addr, long len) {
    return find(addr, len) != null;
  }

  /**
   * A view of {@code len} bytes of host memory behind {@code [addr, addr + len)}.
   *
   * @throws GuestMemoryException if the range is not wholly inside one region
   */
  public MemorySegment slice(GuestAddress addr, long len) {
    GuestRegion r = regions[indexOf(addr, len)];
    return r.host().asSlice(addr.minus(r.start()), len);
  }

  /**
   * {@link #slice}, for the VMM to write into (a block read, a received frame): its pages count as
   * written.
   *
   * @throws GuestMemoryException if the range is not wholly inside one region
   */
  public MemorySegment writableSlice(GuestAddress addr, long len) {
    int i = indexOf(addr, len);
    GuestRegion r = regions[i];
    long offset = addr.minus(r.start());
    dirty.mark(i, offset, len);
    return r.host().asSlice(offset, len);
  }

  public byte readByte(GuestAddress addr) {
    return slice(addr, 1).get(ValueLayout.JAVA_BYTE, 0);
  }

  public short readShort(GuestAddress addr) {
    return slice(addr, 2).get(SHORT, 0);
  }

  public int readInt(GuestAddress addr) {
    return slice(addr, 4).get(INT, 0);
  }

  public long readLong(GuestAddress addr) {
    return slice(addr, 8).get(LONG, 0);
  }

  public void writeByte(GuestAddress addr, byte value) {
    writableSlice(addr, 1).set(ValueLayout.JAVA_BYTE, 0, value);
  }

  public void writeShort(GuestAddress addr, short value) {
    writableSlice(addr, 2).set(SHORT, 0, value);
  }

  public void writeInt(GuestAddress addr, int value) {
    writableSlice(addr, 4).set(INT, 0, value);
  }

  public void writeLong(GuestAddress addr, long value) {
    writableSlice(addr, 8).set(LONG, 0, value);
  }

  /** Copies {@code len} guest bytes at {@code addr} into {@code dst[off..off+len)}. */
  public void read(GuestAddress addr, byte[] dst, int off, int len) {
    MemorySegment.copy(slice(addr, len), ValueLayout.JAVA_BYTE, 0, dst, off, len);
  }

  /** Copies {@code src[off..off+len)} into guest memory at {@code addr}. */
  public void write(GuestAddress addr, byte[] src, int off, int len) {
    MemorySegment.copy(src, off, writableSlice(addr, len), ValueLayout.JAVA_BYTE, 0, len);
  }

  /** Copies all of {@code src} into guest memory at {@code addr}. */
  public void write(GuestAddress addr, MemorySegment src) {
    writableSlice(addr, src.byteSize()).copyFrom(src);
  }

  private GuestRegion find(GuestAddress addr, long len) {
    for (GuestRegion r : regions) {
      if (r.contains(addr, len)) {
        return r;
      }
    }
    return null;
  }

  private int indexOf(GuestAddress addr, long len) {
    for (int i = 0; i < regions.length; i++) {
      if (regions[i].contains(addr, len)) {
        return i;
      }
    }
    throw outOfRange(addr, len);
  }

  private GuestMemoryException outOfRange(GuestAddress addr, long len) {
    return new GuestMemoryException(
        "guest access of "
            + len
            + " bytes at "
            + addr
            + " is outside guest memory (regions "
            + describeRegions()
            + ")");
  }

  private String describeRegions() {
    StringBuilder sb = new StringBuilder();
    for (GuestRegion r : regions) {
      if (!sb.isEmpty()) {
        sb.append(", ");
      }
      sb.append('[').append(r.start()).append(", ").append(r.end()).append(')');
    }
    return sb.toString();
  }
}
