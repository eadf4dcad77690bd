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
import dev.hearth.vmm.testing.HybridVsockClient;
import dev.hearth.vmm.testing.RequiresLinuxKvm;
import dev.hearth.vmm.testing.RequiresRoot;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Linux test guest under Hearth's VMM with its root file system on virtio-blk (no initrd) and a
 * virtio-net interface on a real tap, a vsock device and an rng: the guest's own init checks each
 * device from inside and prints {@code HEARTH-CHECK <name> OK}. The network is used for real: the
 * init configures the address from {@code ip=} (the agent's format), pings the tap's host address,
 * and holds while the host pings it back; it serves one host connection over vsock (Firecracker's
 * hybrid {@code CONNECT <port>} handshake on the device's Unix socket) and reads real bytes from
 * virtio-rng. On these machines the build runs this class inside the nested-KVM machine.
 */
@RequiresLinuxKvm
@RequiresRoot
@Timeout(300)
class LinuxDevicesKvmIT {
  private static final Duration BOOT_LIMIT = Duration.ofSeconds(150);
  private static final int HOLD_SECONDS = 10;
  private static final int VSOCK_PORT = 5000;

  @TempDir Path dir;

  @Test
  void bootsFromAVirtioBlkRootAndUsesItsNetVsockAndRngDevices() throws Exception {
    TestGuest guest = TestGuest.locate();
    String tapName = "hrl" + ProcessHandle.current().pid() % 100000;
    Inet4Address hostIp = ipv4("10.213.7.1");
    Inet4Address guestIp = ipv4("10.213.7.2");
    String cmdline =
        "console=ttyS0 reboot=k panic=-1 quiet root=/dev/vda ro rootfstype=ext4"
            + " ip=10.213.7.2::10.213.7.1:255.255.255.0:linux-devices:eth0:off"
            + " hearth.check=cpus,blk,rootfs,net,ping,vsock,rng hearth.cpus=1"
            + " hearth.vsock-port="
            + VSOCK_PORT
            + " hearth.hold="
            + HOLD_SECONDS
            + " hearth.boottimer=pio:0x"
            + Integer.toHexString(X86Layout.BOOT_TIMER_PORT);
    Path uds = dir.resolve("vsock.sock");
    try (HostTap tap = HostTap.create(tapName, 0x88b5)) {
      tap.assignIpv4(hostIp, ipv4("255.255.255.0"));
      VmDevices devices =
          VmDevices.NONE
              .withDrive(DriveConfig.of("rootfs", guest.rootfs(), true).withSerial("hearth-root"))
              .withNetInterface(
                  NetInterfaceConfig.of("eth0", tapName, MacAddress.parse("06:00:ac:10:00:02")))
              .withVsock(new VsockDeviceConfig(3, uds))
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
        awaitConsole(vm, "HEARTH-VSOCK listening port=" + VSOCK_PORT, BOOT_LIMIT);
        HybridVsockClient.Exchange vsock;
        try {
          vsock = HybridVsockClient.exchange(uds, VSOCK_PORT, "hello-from-host " + tapName);
        } catch (IOException e) {
          throw new AssertionError(e.getMessage() + "; console:\n" + vm.console().text(), e);
        }
        awaitConsole(vm, "HEARTH-HOLD seconds=" + HOLD_SECONDS, BOOT_LIMIT);
        Optional<Duration> hostPing = IcmpEcho.ping(guestIp, 3, Duration.ofSeconds(1));
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
            .contains("HEARTH-NET ip=10.213.7.2 dev=eth0 mask=255.255.255.0 gw=10.213.7.1")
            .contains("HEARTH-CHECK net OK")
            .contains("HEARTH-CHECK ping OK gw=10.213.7.1 dev=eth0")
            .contains("HEARTH-CHECK vsock OK cid=3")
            .containsPattern(
                "HEARTH-CHECK rng OK read=64 nonzero=\\d+ first=\\p{XDigit}{8} source=virtio_rng")
            .contains("HEARTH-CHECK vsock-echo OK port=" + VSOCK_PORT + " peer-cid=2")
            .contains("HEARTH-GUEST-DONE failures=0");
        assertThat(vsock.connected()).as("the device's answer to CONNECT").matches("OK \\d+");
        assertThat(vsock.reply()).isEqualTo("HEARTH-ECHO hello-from-host " + tapName);
        assertThat(hostPing)
            .as("the guest %s answered the host's ICMP echo while it held", guestIp)
            .isPresent();
        assertThat(exit.get().reason()).as("%s", exit.get()).isEqualTo(ExitReason.RESET);
        console.lines().filter(l -> l.startsWith("HEARTH-")).forEach(System.out::println);
        System.out.printf(
            "LINUX-DEVICES boot_timer_ms=%d uptime_ms=%d host_ping_ms=%.3f%n",
            vm.bootTime().map(Duration::toMillis).orElse(-1L),
            exit.get().uptime().toMillis(),
            hostPing.get().toNanos() / 1e6);
      }
    }
  }

  /** Waits until the console shows {@code text}; fails with the console when the VM ends first. */
  private static void awaitConsole(MicroVm vm, String text, Duration limit)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!vm.console().text().contains(text)) {
      if (System.nanoTime() > deadline || vm.waitForExit(Duration.ofMillis(20)).isPresent()) {
        throw new AssertionError(
            "no '" + text + "' on the console within " + limit + ":\n" + vm.console().text());
      }
    }
  }

  private static Inet4Address ipv4(String literal) throws UnknownHostException {
    return (Inet4Address) InetAddress.getByName(literal);
  }
}
