package dev.hearth.vmm.vm;

import dev.hearth.vmm.arch.x86_64.CpuIdentity;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.kvm.VcpuFd;
import dev.hearth.vmm.kvm.VcpuState;
import dev.hearth.vmm.memory.GuestMemory;
import dev.hearth.vmm.memory.GuestMemoryException;
import dev.hearth.vmm.memory.GuestRegion;
import dev.hearth.vmm.snapshot.DiffFile;
import dev.hearth.vmm.snapshot.SnapshotException;
import dev.hearth.vmm.snapshot.SnapshotFile;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Writes a paused VM's snapshot into a directory ({@value #STATE} and {@value #MEMORY}) and builds
 * a new VM from one. See docs/snapshot-format.md.
 */
final class VmSnapshots {
  /** The state file's name in a snapshot directory. */
  static final String STATE = "state";

  /** The guest memory file's name in a full snapshot's directory. */
  static final String MEMORY = "memory";

  /** The memory file's name in a diff snapshot's directory: the pages since its parent. */
  static final String DIFF = "diff";

  /** The most diffs restored on top of one full snapshot. */
  static final int MAX_CHAIN = 64;

  private VmSnapshots() {}

  /**
   * Saves {@code p} into {@code dir} (created if missing). Every vCPU must be out of KVM_RUN; every
   * virtio device's monitor is held throughout, so no device touches memory or rings meanwhile. The
   * memory file is written beside and renamed over the old one, never rewritten in place: a VM
   * restored from it may still have it mapped.
   */
  static void save(VmParts p, Path dir) {
    Path abs = created(dir);
    withMonitors(p.devices.monitors(), 0, () -> saveQuiesced(p, abs));
  }

  /**
   * Saves {@code p} into {@code dir} as a diff snapshot: the state file, and in {@value #DIFF} only
   * the pages written since the VM's last snapshot (full or diff) or the one it was restored from,
   * which becomes the diff's parent. The same conditions as {@link #save}.
   *
   * @throws SnapshotException if there is no parent to take it against, {@code dir} is the
   *     parent's, or the files cannot be written (a full snapshot must then come next)
   */
  static void saveDiff(VmParts p, Path dir) {
    DirtyLog.Base base = p.dirtyLog.base();
    Path abs = dir.toAbsolutePath().normalize();
    if (abs.equals(base.dir())) {
      throw new SnapshotException(
          "a diff snapshot cannot be written into its parent's directory " + dir);
    }
    created(abs);
    withMonitors(p.devices.monitors(), 0, () -> saveDiffQuiesced(p, abs, base));
  }

  private static Path created(Path dir) {
    try {
      return Files.createDirectories(dir).toAbsolutePath().normalize();
    } catch (IOException e) {
      throw new SnapshotException("cannot create snapshot directory " + dir + ": " + e, e);
    }
  }

  private static void saveQuiesced(VmParts p, Path dir) {
    try {
      VmSnapshotState state = capture(p);
      Path memory = dir.resolve(MEMORY);
      Path tmp = dir.resolve(MEMORY + ".tmp");
      try {
        p.memory.writeTo(tmp);
        // The old state goes before its memory does, so that no state is ever read with the new
        // memory; the new state comes last: a directory with a valid state has its memory.
        Files.deleteIfExists(dir.resolve(STATE));
        Files.move(
            tmp, memory, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.deleteIfExists(dir.resolve(DIFF));
      } catch (IOException e) {
        throw new SnapshotException("cannot write guest memory to " + memory + ": " + e, e);
      }
      byte[] digest = SnapshotFile.write(dir.resolve(STATE), state);
      p.dirtyLog.restart(new DirtyLog.Base(dir, digest));
    } catch (RuntimeException e) {
      p.dirtyLog.forget();
      throw e;
    }
  }

  private static void saveDiffQuiesced(VmParts p, Path dir, DirtyLog.Base base) {
    try {
      VmSnapshotState state = capture(p);
      long[] pages = p.dirtyLog.drainPages();
      GuestMemory memory = p.memory.memory();
      try {
        Files.deleteIfExists(dir.resolve(STATE)); // as in a full snapshot: the state goes first
      } catch (IOException e) {
        throw new SnapshotException("cannot replace the snapshot in " + dir + ": " + e, e);
      }
      DiffFile.write(
          dir.resolve(DIFF),
          new DiffFile.Parent(dir.relativize(base.dir()).toString(), base.stateDigest()),
          p.config.memoryBytes(),
          pages,
          (index, into) -> into.put(filePage(memory, index).asByteBuffer()));
      try {
        Files.deleteIfExists(dir.resolve(MEMORY));
      } catch (IOException e) {
        throw new SnapshotException("cannot replace the full snapshot in " + dir + ": " + e, e);
      }
      byte[] digest = SnapshotFile.write(dir.resolve(STATE), state);
      p.dirtyLog.restart(new DirtyLog.Base(dir, digest));
    } catch (RuntimeException e) {
      p.dirtyLog.forget(); // the logs were drained: only a full snapshot is whole now
      throw e;
    }
  }

  /** Page {@code index} of the guest memory file (the regions back to back), in host memory. */
  private static MemorySegment filePage(GuestMemory memory, long index) {
    long offset = index * DiffFile.PAGE;
    for (GuestRegion r : memory.regions()) {
      if (offset < r.size()) {
        return r.host().asSlice(offset, DiffFile.PAGE);
      }
      offset -= r.size();
    }
    throw new SnapshotException("page " + index + " is past the end of guest memory");
  }

  private static VmSnapshotState capture(VmParts p) {
    List<VcpuState> vcpus = new ArrayList<>();
    for (VcpuFd v : p.vcpus) {
      vcpus.add(v.saveState());
    }
    VmSnapshotState state =
        new VmSnapshotState(
            p.config.name(),
            p.config.vcpus(),
            p.config.memoryBytes(),
            CpuIdentity.of(VmBuilder.supportedCpuid()),
            p.vm.saveState(),
            vcpus,
            p.serial.saveState(),
            p.i8042.saveState(),
            p.bootTimer.saveState(),
            p.guestExit.saveState(),
            p.devices.saveState());
    return state;
  }

  private static void withMonitors(List<Object> monitors, int i, Runnable action) {
    if (i == monitors.size()) {
      action.run();
      return;
    }
    synchronized (monitors.get(i)) {
      withMonitors(monitors, i + 1, action);
    }
  }

  /**
   * Builds a VM from {@code config} with the state in {@code dir}: the builder's steps with memory
   * mapped from the snapshot's file, then the saved state set on every part. No kernel is loaded.
   *
   * @throws SnapshotException if the snapshot is unreadable, of another format version, taken on an
   *     incompatible CPU, or does not fit {@code config}
   */
  static VmParts restore(Path dir, VmConfig config, OutputStream consoleSink, VmEnd end) {
    VmSnapshotState s = SnapshotFile.read(dir.resolve(STATE), VmSnapshotState.class);
    if (s.vcpuCount() != config.vcpus() || s.vcpus().size() != config.vcpus()) {
      throw new SnapshotException(
          "snapshot " + dir + " has " + s.vcpuCount() + " vCPUs; the config " + config.vcpus());
    }
    if (s.memoryBytes() != config.memoryBytes()) {
      throw new SnapshotException(
          "snapshot "
              + dir
              + " has "
              + s.memoryBytes()
              + " bytes of memory; the config "
              + config.memoryBytes());
    }
    List<Path> layers = layers(dir, config.memoryBytes());
    VmBuilder b = new VmBuilder(config, consoleSink, end);
    try {
      Path base = layers.getLast();
      try {
        b.memoryFrom(base.resolve(MEMORY));
      } catch (GuestMemoryException e) {
        throw new SnapshotException("snapshot " + base + ": " + e.getMessage(), e);
      }
      // Each diff's pages over its parent's, oldest first; they are read now, the base lazily.
      GuestMemory memory = b.parts().memory.memory();
      for (int i = layers.size() - 2; i >= 0; i--) {
        DiffFile.read(
            layers.get(i).resolve(DIFF),
            config.memoryBytes(),
            (index, data) -> filePage(memory, index).copyFrom(MemorySegment.ofBuffer(data)));
      }
      s.cpu().requireResumableOn(CpuIdentity.of(VmBuilder.supportedCpuid()));
      b.irqchip().vcpus().legacyDevices().virtioDevices();
      VmParts p = b.parts();
      p.vm.restoreState(s.vm());
      for (int i = 0; i < p.vcpus.size(); i++) {
        p.vcpus.get(i).restoreState(s.vcpus().get(i));
      }
      p.serial.restoreState(s.serial());
      p.i8042.restoreState(s.i8042());
      p.bootTimer.restoreState(s.bootTimer());
      p.guestExit.restoreState(s.guestExit());
      p.devices.restoreState(s.devices());
      // A diff of the restored VM is taken against the snapshot it came from.
      p.dirtyLog.restart(
          new DirtyLog.Base(
              dir.toAbsolutePath().normalize(), SnapshotFile.digest(dir.resolve(STATE))));
      return p;
    } catch (RuntimeException | Error e) {
      throw b.abandon(e);
    }
  }

  /**
   * The snapshots whose memory makes {@code dir}'s: {@code dir} first, then each diff's parent, up
   * to the full snapshot last. Each parent must be the very snapshot its child was taken against.
   */
  private static List<Path> layers(Path dir, long memoryBytes) {
    List<Path> out = new ArrayList<>(List.of(dir));
    Path at = dir;
    while (!Files.exists(at.resolve(MEMORY))) {
      Path diff = at.resolve(DIFF);
      if (!Files.exists(diff)) {
        throw new SnapshotException(
            "snapshot " + at + " has no guest memory (neither " + MEMORY + " nor " + DIFF + ")");
      }
      if (out.size() > MAX_CHAIN) {
        throw new SnapshotException(
            "snapshot " + dir + " has more than " + MAX_CHAIN + " diffs over its full snapshot");
      }
      DiffFile.Parent parent = DiffFile.parent(diff, memoryBytes);
      Path up = at.resolve(parent.path()).normalize();
      if (!Files.exists(up.resolve(STATE))) {
        throw new SnapshotException(
            "diff snapshot " + at + ": its parent snapshot " + up + " is missing");
      }
      if (!Arrays.equals(SnapshotFile.digest(up.resolve(STATE)), parent.stateDigest())) {
        throw new SnapshotException(
            "diff snapshot "
                + at
                + ": its parent "
                + up
                + " is not the snapshot it was taken against (the parent's state SHA-256 differs)");
      }
      out.add(up);
      at = up;
    }
    return out;
  }
}
