package dev.hearth.vmm.vm;

import dev.hearth.vmm.kvm.KvmIoctls;
import dev.hearth.vmm.kvm.VmFd;
import dev.hearth.vmm.memory.DirtyPages;
import dev.hearth.vmm.memory.GuestMemory;
import dev.hearth.vmm.memory.GuestRegion;
import dev.hearth.vmm.snapshot.DiffFile;
import dev.hearth.vmm.snapshot.SnapshotException;
import dev.hearth.vmm.sys.SysException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The pages written since this VM's last snapshot, for a diff snapshot against it: KVM's dirty log
 * of each memory slot (the guest's writes; {@code KVM_MEM_LOG_DIRTY_PAGES}, switched on at the
 * first snapshot or at a restore) together with {@link DirtyPages} (the VMM's own writes, which KVM
 * does not see). Slot {@code i} is region {@code i} of guest memory, as {@link VmBuilder} maps
 * them. Used with the vCPUs out of KVM_RUN and every device's monitor held.
 */
final class DirtyLog {
  /** The snapshot a diff is taken against: its directory and its state file's SHA-256. */
  record Base(Path dir, byte[] stateDigest) {}

  private final VmFd vm;
  private final GuestMemory memory;
  private boolean logging;
  private String unavailable;
  private Base base;

  DirtyLog(VmFd vm, GuestMemory memory) {
    this.vm = vm;
    this.memory = memory;
  }

  /**
   * Makes {@code base} the snapshot the next diff is taken against and forgets what was written
   * before it; switches logging on where it is not yet. A KVM that refuses dirty logging leaves
   * diffs unavailable, saying why.
   */
  void restart(Base base) {
    this.base = null;
    List<GuestRegion> regions = memory.regions();
    try {
      for (int slot = 0; slot < regions.size(); slot++) {
        GuestRegion r = regions.get(slot);
        if (logging) {
          vm.dirtyLog(slot, pages(r)); // read and so cleared
        } else {
          vm.setUserMemoryRegion(
              slot, r.start().raw(), r.host(), KvmIoctls.KVM_MEM_LOG_DIRTY_PAGES);
        }
      }
    } catch (SysException e) {
      unavailable = e.getMessage();
      return;
    }
    logging = true;
    memory.dirtyPages().start();
    this.base = base;
  }

  /** Forgets the base: after a failed diff, only a full snapshot may follow. */
  void forget() {
    base = null;
  }

  /**
   * The snapshot a diff would be taken against.
   *
   * @throws SnapshotException if there is none: no snapshot was taken or restored, the last diff
   *     failed, or KVM cannot log dirty pages
   */
  Base base() {
    if (base == null) {
      throw new SnapshotException(
          unavailable != null
              ? "no diff snapshot: this KVM does not log dirty pages (" + unavailable + ")"
              : "no diff snapshot without a full snapshot of this VM, or one it was restored"
                  + " from, to take it against");
    }
    return base;
  }

  /**
   * The pages of the guest memory file (regions back to back) written since {@link #restart},
   * increasing; reading them clears both logs.
   */
  long[] drainPages() {
    List<GuestRegion> regions = memory.regions();
    long[] out = new long[16];
    int n = 0;
    long first = 0; // the region's first page in the memory file
    for (int slot = 0; slot < regions.size(); slot++) {
      long pages = pages(regions.get(slot));
      long[] kvm = vm.dirtyLog(slot, pages);
      long[] vmm = memory.dirtyPages().drain(slot);
      for (int w = 0; w < kvm.length; w++) {
        long bits = kvm[w] | (w < vmm.length ? vmm[w] : 0);
        while (bits != 0) {
          long page = w * 64L + Long.numberOfTrailingZeros(bits);
          bits &= bits - 1;
          if (page < pages) {
            if (n == out.length) {
              out = Arrays.copyOf(out, n * 2);
            }
            out[n++] = first + page;
          }
        }
      }
      first += pages;
    }
    return Arrays.copyOf(out, n);
  }

  private static long pages(GuestRegion r) {
    return r.size() / DiffFile.PAGE;
  }
}
