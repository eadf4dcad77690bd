package dev.hearth.vmm.memory;

import java.lang.foreign.MemorySegment;

/**
 * One contiguous range of guest-physical memory and the host memory behind it.
 *
 * @param start the guest-physical address of the first byte
 * @param host the host memory, usually an mmap of anonymous or file-backed pages
 */
public record GuestRegion(GuestAddress start, MemorySegment host) {

  public GuestRegion {
    if (host.byteSize() == 0) {
      throw new GuestMemoryException("empty guest region at " + start);
    }
    // The end must be representable: start + size must not wrap.
    start.plus(host.byteSize());
  }

  /** Size in bytes. */
  public long size() {
    return host.byteSize();
  }

  /** The first address past this region (exclusive end). */
  public GuestAddress end() {
    return start.plus(size());
  }

  /** Whether {@code [addr, addr + len)} lies wholly inside this region. */
  public boolean contains(GuestAddress addr, long len) {
    if (len < 0 || addr.compareTo(start) < 0) {
      return false;
    }
    long offset = addr.minus(start);
    // offset is below 2^63 here since the region's end is representable.
    return Long.compareUnsigned(offset, size()) <= 0 && len <= size() - offset;
  }
}
