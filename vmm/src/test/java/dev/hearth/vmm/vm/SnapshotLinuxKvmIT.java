package dev.hearth.vmm.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.config.BootSource;
import dev.hearth.vmm.config.DriveConfig;
import dev.hearth.vmm.config.RngConfig;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.config.VmDevices;
import dev.hearth.vmm.config.VsockDeviceConfig;
import dev.hearth.vmm.harness.TestGuest;
import dev.hearth.vmm.testing.RequiresLinuxKvm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Linux test guest is snapshotted at a shell prompt and restored into a new VM, where the same
 * shell goes on: its boot id is unchanged (no reboot), its uptime went on from where it stopped
 * (kvmclock), and its virtio disk, rng and serial console work. On these machines the build runs
 * this class inside the nested-KVM machine.
 */
@RequiresLinuxKvm
@Timeout(400)
class SnapshotLinuxKvmIT {
  private static final Duration LIMIT = Duration.ofSeconds(150);
  private static final Pattern STAMP =
      Pattern.compile("(BEFORE|AFTER) ([0-9a-f]{8}-[0-9a-f-]{27}) ([0-9]+\\.[0-9]+)");

  @TempDir Path dir;

  @Test
  void theGuestGoesOnInANewVmWithItsBootIdClockDiskAndRng() throws Exception {
    TestGuest guest = TestGuest.locate();
    Path rootfs = Files.copy(guest.rootfs(), dir.resolve("rootfs.ext4"));
    String cmdline =
        "console=ttyS0 reboot=k panic=-1 quiet root=/dev/vda rw rootfstype=ext4"
            + " hearth.check=blk,rng,vsock hearth.end=shell";
    VmConfig config =
        VmConfig.of(
                "linux-snapshot",
                1,
                128,
                new BootSource(guest.vmlinux(), Optional.empty(), cmdline))
            .withDevices(
                VmDevices.NONE
                    .withDrive(DriveConfig.of("rootfs", rootfs, false))
                    .withVsock(new VsockDeviceConfig(3, dir.resolve("vsock.sock")))
                    .withRng(RngConfig.UNLIMITED));
    Path snap = dir.resolve("snap");
    String bootId;
    double uptimeBefore;
    try (MicroVm vm = MicroVm.create(config, null)) {
      vm.start();
      awaitConsole(vm, "HEARTH-GUEST-DONE failures=0");
      type(
          vm, "echo BEFORE $(cat /proc/sys/kernel/random/boot_id) $(cut -d' ' -f1 /proc/uptime)\n");
      Matcher before = awaitStamp(vm, "BEFORE");
      bootId = before.group(2);
      uptimeBefore = Double.parseDouble(before.group(3));
      vm.pause();
      vm.snapshot(snap);
    }
    // The guest is not running meanwhile: its clock must not count this.
    Thread.sleep(2000);
    try (MicroVm vm = MicroVm.restore(snap, config, null)) {
      vm.start();
      type(vm, "echo AFTER $(cat /proc/sys/kernel/random/boot_id) $(cut -d' ' -f1 /proc/uptime)\n");
      Matcher after = awaitStamp(vm, "AFTER");
      assertThat(after.group(2)).as("boot id").isEqualTo(bootId);
      double uptimeAfter = Double.parseDouble(after.group(3));
      assertThat(uptimeAfter)
          .as("uptime")
          .isGreaterThanOrEqualTo(uptimeBefore)
          .isLessThan(uptimeBefore + 60);
      type(vm, "echo restored > /restored.txt; sync; echo DISK $(cat /restored.txt)\n");
      awaitConsole(vm, "DISK restored");
      type(vm, "echo RNG $(head -c 32 /dev/hwrng | wc -c)\n");
      awaitConsole(vm, "RNG 32");
      String console = vm.console().text();
      assertThat(console).doesNotContain(guest.marker()).doesNotContain("Linux version");
      System.out.printf(
          "LINUX-SNAPSHOT boot_id=%s uptime_before=%.2f uptime_after=%.2f%n",
          bootId, uptimeBefore, uptimeAfter);
    }
  }

  /** Types {@code line} on the guest's serial console, waiting while its FIFO is full. */
  private static void type(MicroVm vm, String line) throws InterruptedException {
    byte[] bytes = line.getBytes(StandardCharsets.US_ASCII);
    int off = 0;
    long deadline = System.nanoTime() + LIMIT.toNanos();
    while (off < bytes.length) {
      off += vm.serial().enqueueInput(java.util.Arrays.copyOfRange(bytes, off, bytes.length));
      assertThat(System.nanoTime()).as("typing into the guest").isLessThan(deadline);
      Thread.sleep(2);
    }
  }

  private static Matcher awaitStamp(MicroVm vm, String which) throws InterruptedException {
    long deadline = System.nanoTime() + LIMIT.toNanos();
    while (true) {
      Matcher m = STAMP.matcher(vm.console().text());
      while (m.find()) {
        if (m.group(1).equals(which)) {
          return m;
        }
      }
      if (System.nanoTime() > deadline || vm.waitForExit(Duration.ofMillis(20)).isPresent()) {
        throw new AssertionError("no " + which + " line; console:\n" + vm.console().text());
      }
    }
  }

  private static void awaitConsole(MicroVm vm, String text) throws InterruptedException {
    long deadline = System.nanoTime() + LIMIT.toNanos();
    while (!vm.console().text().contains(text)) {
      if (System.nanoTime() > deadline || vm.waitForExit(Duration.ofMillis(20)).isPresent()) {
        throw new AssertionError(
            "no '" + text + "' on the console within " + LIMIT + ":\n" + vm.console().text());
      }
    }
  }
}
