package dev.hearth.vmm.vm;

import static dev.hearth.vmm.testing.ConsoleCounts.ROUND;
import static dev.hearth.vmm.testing.ConsoleCounts.TICK;
import static dev.hearth.vmm.testing.ConsoleCounts.first;
import static dev.hearth.vmm.testing.ConsoleCounts.last;
import static dev.hearth.vmm.vm.MicroVmKvmIT.awaitConsole;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.vmm.config.DriveConfig;
import dev.hearth.vmm.config.RngConfig;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.config.VmDevices;
import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestMemory;
import dev.hearth.vmm.memory.GuestRegion;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import dev.hearth.vmm.snapshot.SnapshotException;
import dev.hearth.vmm.testing.RequiresKvm;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Diff snapshots on real KVM: a counter goes on across full, diff, diff; a diff holds only the
 * pages written since its parent, the VMM's own writes (a block read, the used rings) included; a
 * diff whose parent is missing or is no longer the snapshot it was taken against is refused.
 */
@RequiresKvm
@Timeout(180)
class DiffSnapshotKvmIT {

  @TempDir Path dir;

  private static VmConfig ticker() {
    return TestGuests.config("ticker", 1, 16, "console=ttyS0");
  }

  /** Bytes of the non-zero pages of a (sparse) full memory file: what it really holds. */
  private static long dataBytes(Path memory) throws IOException {
    byte[] all = Files.readAllBytes(memory);
    long pages = 0;
    for (int at = 0; at < all.length; at += 4096) {
      for (int i = at; i < at + 4096; i++) {
        if (all[i] != 0) {
          pages++;
          break;
        }
      }
    }
    return pages * 4096;
  }

  @Test
  void theCounterGoesOnAcrossFullDiffDiffAndEachDiffIsSmall() throws Exception {
    Path base = dir.resolve("base");
    Path d1 = dir.resolve("d1");
    Path d2 = dir.resolve("d2");
    long before;
    try (MicroVm vm = MicroVm.create(ticker(), null)) {
      vm.start();
      awaitConsole(vm, "tick 10\n");
      vm.pause();
      vm.snapshot(base);
      vm.resume();
      awaitConsole(vm, "tick 30\n");
      vm.pause();
      vm.snapshotDiff(d1);
      vm.resume();
      awaitConsole(vm, "tick 50\n");
      vm.pause();
      vm.snapshotDiff(d2);
      before = last(TICK, vm.console().text());
    }
    assertThat(d2.resolve("memory")).doesNotExist();
    long full = dataBytes(base.resolve("memory"));
    long diff = Files.size(d2.resolve("diff"));
    System.out.printf(
        "diff snapshot: full holds %d KiB of pages, the diff %d KiB%n", full >> 10, diff >> 10);
    assertThat(diff).as("the diff against the full's %d bytes", full).isLessThan(full);
    assertThat(Files.size(d1.resolve("diff"))).isLessThan(full);

    try (MicroVm vm = MicroVm.restore(d2, ticker(), null)) {
      vm.start();
      awaitConsole(vm, "tick " + (before + 10) + "\n");
      String out = vm.console().text();
      assertThat(first(TICK, out)).as(out).isBetween(before + 1, before + 2);
      // And a diff of the restored VM, against d2 it came from, restores in turn.
      awaitConsole(vm, "tick " + (before + 20) + "\n");
      vm.pause();
      vm.snapshotDiff(dir.resolve("d3"));
      before = last(TICK, vm.console().text());
    }
    try (MicroVm vm = MicroVm.restore(dir.resolve("d3"), ticker(), null)) {
      vm.start();
      awaitConsole(vm, "tick " + (before + 10) + "\n");
      assertThat(first(TICK, vm.console().text())).isBetween(before + 1, before + 2);
    }
  }

  /**
   * Block reads, used rings and random bytes after the base are written by the VMM, which KVM's
   * dirty log does not see: the restored memory must still equal the memory at the diff, page for
   * page, and a page only the VMM wrote must be there.
   */
  @Test
  void whatTheVmmWroteAfterTheBaseIsInTheRestoredMemory() throws Exception {
    Path disk = Files.write(dir.resolve("disk.img"), new byte[64 * 512]);
    VmConfig config =
        TestGuests.config("virtio", 1, 32, "console=ttyS0 rounds=1")
            .withDevices(
                VmDevices.NONE
                    .withDrive(DriveConfig.of("data", disk, false))
                    .withRng(new RngConfig(RateLimiterConfig.UNLIMITED)));
    Path base = dir.resolve("base");
    Path d1 = dir.resolve("d1");
    long marker = 0x4845_4152_5448_2121L;
    GuestAddress unused = new GuestAddress(30L << 20); // above the guest's image and stack
    long before;
    try (MicroVm vm = MicroVm.create(config, null)) {
      vm.start();
      awaitConsole(vm, "round 3 blk ok rng ok\n");
      vm.pause();
      vm.snapshot(base);
      // As a device does: a write of the VMM's into guest memory while the vCPUs are stopped.
      vm.memory().writeLong(unused, marker);
      vm.resume();
      long at = last(ROUND, vm.console().text());
      awaitConsole(vm, "round " + (at + 3) + " blk ok rng ok\n");
      vm.pause();
      Thread.sleep(200); // a request the guest queued before the pause completes first
      vm.snapshotDiff(d1);
      before = last(ROUND, vm.console().text());
      try (MicroVm restored = MicroVm.restore(d1, config, null)) {
        assertThat(differingPages(vm.memory(), restored.memory()))
            .as("pages where the restored memory differs from the memory at the diff")
            .isEmpty();
        assertThat(restored.memory().readLong(unused)).isEqualTo(marker);
      }
    }
    try (MicroVm vm = MicroVm.restore(d1, config, null)) {
      vm.start();
      awaitConsole(vm, "round " + (before + 3) + " blk ok rng ok\n");
      String out = vm.console().text();
      assertThat(out).doesNotContain("FAILED");
      assertThat(first(ROUND, out)).isEqualTo(before + 1);
    }
  }

  private static java.util.List<Long> differingPages(GuestMemory a, GuestMemory b) {
    java.util.List<Long> out = new java.util.ArrayList<>();
    for (GuestRegion r : a.regions()) {
      MemorySegment other = b.slice(r.start(), r.size());
      for (long off = 0; off < r.size(); off += 4096) {
        if (r.host().asSlice(off, 4096).mismatch(other.asSlice(off, 4096)) != -1) {
          out.add(r.start().raw() + off);
        }
      }
    }
    return out;
  }

  @Test
  void aDiffWhoseParentIsMissingAlteredOrItselfCorruptedIsRefused() throws Exception {
    Path base = dir.resolve("base");
    Path d1 = dir.resolve("d1");
    try (MicroVm vm = MicroVm.create(ticker(), null)) {
      assertThatThrownBy(() -> vm.snapshotDiff(d1))
          .isInstanceOf(VmException.class)
          .hasMessageContaining("must be paused");
      vm.start();
      awaitConsole(vm, "tick 3\n");
      vm.pause();
      assertThatThrownBy(() -> vm.snapshotDiff(d1))
          .isInstanceOf(SnapshotException.class)
          .hasMessageContaining("without a full snapshot");
      vm.snapshot(base);
      assertThatThrownBy(() -> vm.snapshotDiff(base))
          .isInstanceOf(SnapshotException.class)
          .hasMessageContaining("into its parent's directory");
      vm.resume();
      awaitConsole(vm, "tick 6\n");
      vm.pause();
      vm.snapshotDiff(d1);
      vm.resume();
      awaitConsole(vm, "tick 9\n");
      vm.pause();

      Path diff = d1.resolve("diff");
      byte[] good = Files.readAllBytes(diff);
      byte[] flipped = good.clone();
      flipped[good.length - 100] ^= 1;
      Files.write(diff, flipped);
      assertRefused(d1, "is corrupted: its SHA-256 does not match");
      Files.write(diff, java.util.Arrays.copyOf(good, good.length - 4096));
      assertRefused(d1, "is truncated or padded");
      Files.write(diff, good);

      Path moved = Files.move(base, dir.resolve("elsewhere"));
      assertRefused(d1, "its parent snapshot " + base + " is missing");
      Files.move(moved, base);
      try (MicroVm ok = MicroVm.restore(d1, ticker(), null)) {
        assertThat(ok.state()).isEqualTo(MicroVm.State.CREATED);
      }

      // A new full snapshot in the parent's place: no longer the one d1 was taken against.
      vm.snapshot(base);
      assertRefused(d1, "is not the snapshot it was taken against");
    }
  }

  private static void assertRefused(Path snap, String why) {
    assertThatThrownBy(() -> MicroVm.restore(snap, ticker(), null).close())
        .isInstanceOf(SnapshotException.class)
        .hasMessageContaining(why);
  }
}
