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
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import dev.hearth.vmm.ratelimit.TokenBucketConfig;
import dev.hearth.vmm.snapshot.SnapshotException;
import dev.hearth.vmm.testing.RequiresKvm;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshot and restore on real KVM: a guest's counter, its virtio disk and rng, and its rate
 * limiter's budget go on in a new VM built from the snapshot, and a snapshot that was tampered
 * with, cut short or written by another format version is refused.
 */
@RequiresKvm
@Timeout(180)
class SnapshotKvmIT {

  @TempDir Path dir;

  private static VmConfig ticker() {
    return TestGuests.config("ticker", 1, 16, "console=ttyS0");
  }

  /** Pauses {@code vm}, snapshots it into {@code snap}, and returns its console so far. */
  private static String suspend(MicroVm vm, Path snap) throws InterruptedException {
    vm.pause();
    vm.snapshot(snap);
    String out = vm.console().text();
    vm.close();
    return out;
  }

  @Test
  void theCounterContinuesInANewVmAndAgainInAThirdFromItsSnapshot() throws Exception {
    Path snap = dir.resolve("snap");
    long before;
    try (MicroVm vm = MicroVm.create(ticker(), null)) {
      vm.start();
      awaitConsole(vm, "tick 20\n");
      before = last(TICK, suspend(vm, snap));
    }
    assertThat(Files.size(snap.resolve("memory"))).isEqualTo(16L << 20);
    for (int generation = 1; generation <= 2; generation++) {
      try (MicroVm vm = MicroVm.restore(snap, ticker(), null)) {
        assertThat(vm.state()).isEqualTo(MicroVm.State.CREATED);
        vm.start();
        awaitConsole(vm, "tick " + (before + 10) + "\n");
        String out = vm.console().text();
        // The first whole line is the next number (the line the pause cut may end it first).
        assertThat(first(TICK, out))
            .as("generation %d: %s", generation, out)
            .isBetween(before + 1, before + 2);
        assertThat(out).doesNotContain("tick 0\n");
        // Snapshot the restored VM over the snapshot it still maps: the next one goes on from here.
        before = last(TICK, suspend(vm, snap));
      }
    }
  }

  @Test
  void anotherProcessRestoresTheSnapshotAndTheCounterGoesOn() throws Exception {
    Path snap = dir.resolve("snap");
    long before;
    try (MicroVm vm = MicroVm.create(ticker(), null)) {
      vm.start();
      awaitConsole(vm, "tick 10\n");
      before = last(TICK, suspend(vm, snap));
    }
    // As a new agent after the old one was killed: a fresh JVM, only the snapshot directory.
    String classPath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Process restorer =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                classPath,
                RestoreProcess.class.getName(),
                snap.toString(),
                TestGuests.path("ticker").toString(),
                String.valueOf(before + 5))
            .redirectErrorStream(true)
            .start();
    String out = new String(restorer.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(restorer.waitFor(60, TimeUnit.SECONDS)).as(out).isTrue();
    assertThat(restorer.exitValue()).as(out).isZero();
    assertThat(first(TICK, out)).as(out).isBetween(before + 1, before + 2);
    assertThat(out).doesNotContain("tick 0\n");
  }

  @Test
  void theDiskTheRngAndTheRngBudgetGoOnAfterRestore() throws Exception {
    Path disk = Files.write(dir.resolve("disk.img"), new byte[64 * 512]);
    // Twelve rounds' worth of random bytes, refilled only after an hour.
    RateLimiterConfig twelveRounds =
        new RateLimiterConfig(
            new TokenBucketConfig(12 * 64, 0, 3_600_000), TokenBucketConfig.DISABLED);
    VmConfig config =
        TestGuests.config("virtio", 1, 32, "console=ttyS0 rounds=1")
            .withDevices(
                VmDevices.NONE
                    .withDrive(DriveConfig.of("data", disk, false))
                    .withRng(new RngConfig(twelveRounds)));
    Path snap = dir.resolve("snap");
    long before;
    try (MicroVm vm = MicroVm.create(config, null)) {
      vm.start();
      awaitConsole(vm, "round 3 blk ok rng ok\n");
      // The rng's budget went with the first probe (4 x 64 bytes) and each round since.
      before = last(ROUND, suspend(vm, snap));
    }
    assertThat(before).isBetween(3L, 7L);
    try (MicroVm vm = MicroVm.restore(snap, config, null)) {
      vm.start();
      awaitConsole(vm, "round 8 blk ok rng ok\n");
      String out = vm.console().text();
      assertThat(out).doesNotContain("virtio: device").doesNotContain("FAILED");
      assertThat(first(ROUND, out)).isEqualTo(before + 1);
      // 4 probe fetches + 8 rounds spent the budget; a restore that refilled it would go on.
      awaitConsole(vm, "round 9 blk ok");
      Thread.sleep(1500);
      assertThat(vm.console().text()).doesNotContain("round 9 blk ok rng ok");
    }
    long sector2 =
        ByteBuffer.wrap(Files.readAllBytes(disk), 2 * 512, 8)
            .order(ByteOrder.LITTLE_ENDIAN)
            .getLong();
    assertThat(sector2).as("the last round the guest wrote").isEqualTo(9);
  }

  @Test
  void aTamperedTruncatedOrOtherVersionSnapshotIsRefusedCleanly() throws Exception {
    Path snap = dir.resolve("snap");
    try (MicroVm vm = MicroVm.create(ticker(), null)) {
      vm.start();
      awaitConsole(vm, "tick 3\n");
      suspend(vm, snap);
    }
    Path state = snap.resolve("state");
    byte[] good = Files.readAllBytes(state);

    byte[] flipped = good.clone();
    flipped[good.length / 2] ^= 0x01;
    Files.write(state, flipped);
    assertRefused(snap, "is corrupted: its SHA-256 does not match");

    Files.write(state, java.util.Arrays.copyOf(good, good.length - 100));
    assertRefused(snap, "is truncated or padded");

    Files.write(state, java.util.Arrays.copyOf(good, 10));
    assertRefused(snap, "is truncated (10 bytes)");

    int other = dev.hearth.vmm.snapshot.SnapshotFile.FORMAT_VERSION + 1;
    byte[] newer = good.clone();
    ByteBuffer.wrap(newer).putInt(8, other);
    Files.write(state, newer);
    assertRefused(
        snap,
        "has format version "
            + other
            + "; this VMM reads version "
            + dev.hearth.vmm.snapshot.SnapshotFile.FORMAT_VERSION);

    Files.write(state, "not a snapshot at all".getBytes());
    assertRefused(snap, "is not a Hearth snapshot");

    Files.write(state, good);
    try (var ch =
        java.nio.channels.FileChannel.open(snap.resolve("memory"), StandardOpenOption.WRITE)) {
      ch.truncate(1 << 20);
    }
    assertRefused(snap, "memory file");

    assertThatThrownBy(
            () -> MicroVm.restore(snap, TestGuests.config("ticker", 2, 16, ""), null).close())
        .isInstanceOf(SnapshotException.class)
        .hasMessageContaining("has 1 vCPUs; the config 2");
  }

  private static void assertRefused(Path snap, String why) {
    assertThatThrownBy(() -> MicroVm.restore(snap, ticker(), null).close())
        .isInstanceOf(SnapshotException.class)
        .hasMessageContaining(why);
  }

  @Test
  void onlyAPausedVmIsSnapshotted() throws Exception {
    try (MicroVm vm = MicroVm.create(ticker(), null)) {
      assertThatThrownBy(() -> vm.snapshot(dir))
          .isInstanceOf(VmException.class)
          .hasMessageContaining("must be paused to be snapshotted (it is CREATED)");
    }
  }
}
