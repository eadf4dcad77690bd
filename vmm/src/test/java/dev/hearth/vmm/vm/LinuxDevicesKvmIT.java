package dev.hearth.vmm.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.arch.x86_64.X86Layout;
import dev.hearth.vmm.config.BootSource;
import dev.hearth.vmm.config.DriveConfig;
import dev.hearth.vmm.config.NetInterfaceConfig;
import dev.hearth.vmm.config.RngConfig;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.config.VmDevices;
import dev.hearth.vmm.config.VsockDeviceConfig;
import dev.hearth.vmm.devices.virtio.net.MacAddress;
import dev.hearth.vmm.harness.TestGuest;
import dev.hearth.vmm.testing.RequiresLinuxKvm;
import dev.hearth.vmm.testing.RequiresRoot;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Linux test guest under Hearth's VMM with its root file system on virtio-blk (no initrd) and a
 * virtio-net interface on a real tap, a vsock device and an rng: the guest's own init checks each
 * device from inside and prints {@code HEARTH-CHECK <name> OK}. On these machines the build runs
 * this class inside the nested-KVM machine.
 */
@RequiresLinuxKvm
@RequiresRoot
@Timeout(300)
class LinuxDevicesKvmIT {
  private static final Duration BOOT_LIMIT = Duration.ofSeconds(150);

  @TempDir Path dir;

  @Test
  void bootsFromAVirtioBlkRootAndSeesItsNetVsockAndRngDevices() throws Exception {
    TestGuest guest = TestGuest.locate();
    String tapName = "hrl" + ProcessHandle.current().pid() % 100000;
    String cmdline =
        "console=ttyS0 reboot=k panic=-1 quiet root=/dev/vda ro rootfstype=ext4"
            + " hearth.check=cpus,blk,rootfs,net,vsock,rng hearth.cpus=1"
            + " hearth.boottimer=pio:0x"
            + Integer.toHexString(X86Layout.BOOT_TIMER_PORT);
    try (HostTap tap = HostTap.create(tapName, 0x88b5)) {
      VmDevices devices =
          VmDevices.NONE
              .withDrive(DriveConfig.of("rootfs", guest.rootfs(), true).withSerial("hearth-root"))
              .withNetInterface(
                  NetInterfaceConfig.of("eth0", tapName, MacAddress.parse("06:00:ac:10:00:02")))
              .withVsock(new VsockDeviceConfig(3, dir.resolve("vsock.sock")))
              .withRng(RngConfig.UNLIMITED);
      VmConfig config =
          VmConfig.of(
                  "linux-devices",
                  1,
                  128,
                  new BootSource(guest.vmlinux(), Optional.empty(), cmdline))
              .withDevices(devices);
      try (MicroVm vm = MicroVm.create(config, null)) {
        vm.start();
        Optional<VmExit> exit = vm.waitForExit(BOOT_LIMIT);
        String console = vm.console().text();
        assertThat(exit)
            .as("the guest ended within %s; console:%n%s", BOOT_LIMIT, console)
            .isPresent();
        assertThat(console)
            .as("console:%n%s", console)
            .contains(guest.marker() + " ")
            .contains("root=disk")
            .contains("HEARTH-CHECK cpus OK")
            .contains("HEARTH-CHECK blk OK")
            .contains("HEARTH-CHECK rootfs OK")
            .contains("HEARTH-CHECK net OK")
            .contains("HEARTH-CHECK vsock OK cid=3")
            .contains("HEARTH-CHECK rng OK")
            .contains("HEARTH-GUEST-DONE failures=0");
        assertThat(exit.get().reason()).as("%s", exit.get()).isEqualTo(ExitReason.RESET);
        System.out.printf(
            "LINUX-DEVICES boot_timer_ms=%d uptime_ms=%d%n",
            vm.bootTime().map(Duration::toMillis).orElse(-1L), exit.get().uptime().toMillis());
      }
    }
  }
}
