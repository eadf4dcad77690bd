package dev.hearth.vmm.memory;

import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The pages of guest memory the VMM itself wrote (virtio used rings, block reads, received frames)
 * since the last {@link #drain}, one bit per 4 KiB page of each region. KVM's dirty log sees only
 * the guest's own writes, so a diff snapshot needs both. Off until {@link #start}: a VM that never
 * takes a diff snapshot pays one volatile read per write.
 */
public final class DirtyPages {
  /** The page size the bitmaps count in, as KVM's dirty log does on x86_64. */
  public static final long PAGE = 4096;

  private final AtomicLongArray[] bitmaps;
  private volatile boolean tracking;

  DirtyPages(List<GuestRegion> regions) {
    bitmaps = new AtomicLongArray[regions.size()];
    for (int i = 0; i < bitmaps.length; i++) {
      long pages = (regions.get(i).size() + PAGE - 1) / PAGE;
      bitmaps[i] = new AtomicLongArray((int) ((pages + 63) / 64));
    }
  }

  /** Starts tracking, or clears what was tracked so far. */
  public void start() {
    tracking = true;
    for (int i = 0; i < bitmaps.length; i++) {
      drain(i);
    }
  }

  /** Whether writes are being tracked. */
  public boolean tracking() {
    return tracking;
  }

  /** Records a write of {@code len} bytes at {@code offset} into region {@code region}. */
  void mark(int region, long offset, long len) {
    if (!tracking || len <= 0) {
      return;
    }
    AtomicLongArray bits = bitmaps[region];
    for (long page = offset / PAGE; page <= (offset + len - 1) / PAGE; page++) {
      int word = (int) (page >>> 6);
      long bit = 1L << (page & 63);
      if ((bits.get(word) & bit) == 0) {
        bits.getAndAccumulate(word, bit, (a, b) -> a | b);
      }
    }
  }

  /**
   * The pages of region {@code region} written since the last call, as a bitmap in KVM's dirty log
   * layout (bit {@code p % 64} of word {@code p / 64} for page {@code p}); clears them.
   */
  public long[] drain(int region) {
    AtomicLongArray bits = bitmaps[region];
    long[] out = new long[bits.length()];
    for (int i = 0; i < out.length; i++) {
      out[i] = bits.getAndSet(i, 0);
    }
    return out;
  }
}
