package dev.hearth.vmm.vm;

import dev.hearth.vmm.arch.x86_64.CpuIdentity;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.kvm.VcpuFd;
import dev.hearth.vmm.kvm.VcpuState;
import dev.hearth.vmm.memory.GuestMemoryException;
import dev.hearth.vmm.snapshot.SnapshotException;
import dev.hearth.vmm.snapshot.SnapshotFile;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a paused VM's snapshot into a directory ({@value #STATE} and {@value #MEMORY}) and builds
 * a new VM from one. See docs/snapshot-format.md.
 */
final class VmSnapshots {
  /** The state file's name in a snapshot directory. */
  static final String STATE = "state";

  /** The guest memory file's name in a snapshot directory. */
  static final String MEMORY = "memory";

  private VmSnapshots() {}

  /**
   * Saves {@code p} into {@code dir} (created if missing). Every vCPU must be out of KVM_RUN; every
   * virtio device's monitor is held throughout, so no device touches memory or rings meanwhile. The
   * memory file is written beside and renamed over the old one, never rewritten in place: a VM
   * restored from it may still have it mapped.
   */
  static void save(VmParts p, Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new SnapshotException("cannot create snapshot directory " + dir + ": " + e, e);
    }
    withMonitors(p.devices.monitors(), 0, () -> saveQuiesced(p, dir));
  }

  private static void saveQuiesced(VmParts p, Path dir) {
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
            p.devices.saveState());
    Path memory = dir.resolve(MEMORY);
    Path tmp = dir.resolve(MEMORY + ".tmp");
    try {
      p.memory.writeTo(tmp);
      Files.move(tmp, memory, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new SnapshotException("cannot write guest memory to " + memory + ": " + e, e);
    }
    // The state file last: a directory with a valid state file has the memory that goes with it.
    SnapshotFile.write(dir.resolve(STATE), state);
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
    VmBuilder b = new VmBuilder(config, consoleSink, end);
    try {
      try {
        b.memoryFrom(dir.resolve(MEMORY));
      } catch (GuestMemoryException e) {
        throw new SnapshotException("snapshot " + dir + ": " + e.getMessage(), e);
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
      p.devices.restoreState(s.devices());
      return p;
    } catch (RuntimeException | Error e) {
      throw b.abandon(e);
    }
  }
}
