package dev.hearth.vmm.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.vmm.config.DriveConfig;
import dev.hearth.vmm.config.NetInterfaceConfig;
import dev.hearth.vmm.config.RngConfig;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.config.VmDevices;
import dev.hearth.vmm.config.VsockDeviceConfig;
import dev.hearth.vmm.devices.virtio.net.MacAddress;
import dev.hearth.vmm.harness.KvmSuiteInsideL1;
import dev.hearth.vmm.ratelimit.BucketUpdate;
import dev.hearth.vmm.ratelimit.LimiterId;
import dev.hearth.vmm.ratelimit.RateLimiter;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import dev.hearth.vmm.ratelimit.TokenBucketConfig;
import dev.hearth.vmm.testing.HybridVsockClient;
import dev.hearth.vmm.testing.RequiresKvm;
import dev.hearth.vmm.testing.RequiresRoot;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The virtio devices through real KVM exits, ioeventfds and irqfds: the {@code virtio} test guest
 * drives each device with its own small virtio-mmio driver, and the host checks the other side (the
 * disk file, a real tap, Unix sockets).
 */
@RequiresKvm
@Timeout(120)
class VirtioDevicesKvmIT {
  private static final MacAddress MAC = MacAddress.parse("06:00:ac:10:00:02");
  private static final int ETHERTYPE = 0x88b5;

  @TempDir Path dir;

  private static VmConfig guest(VmDevices devices) {
    return TestGuests.config("virtio", 1, 32, "console=ttyS0").withDevices(devices);
  }

  private static VmExit awaitExit(MicroVm vm) throws InterruptedException {
    Optional<VmExit> exit = vm.waitForExit(Duration.ofSeconds(60));
    assertThat(exit).as("guest ended; console so far:%n%s", vm.console().text()).isPresent();
    assertThat(exit.get().reason())
        .as("%s%n%s", exit.get(), vm.console().text())
        .isEqualTo(ExitReason.RESET);
    return exit.get();
  }

  private Path disk() throws IOException {
    byte[] image = new byte[128 * 512];
    byte[] text = "HEARTH-DISK-SECTOR-0 written by the host".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(text, 0, image, 0, text.length);
    Arrays.fill(image, 512, 1024, (byte) 0x5a);
    return Files.write(dir.resolve("disk.img"), image);
  }

  @Test
  void theGuestReadsAndWritesADiskThatTheHostFileShows() throws Exception {
    Path disk = disk();
    VmDevices devices =
        VmDevices.NONE.withDrive(DriveConfig.of("data", disk, false).withSerial("hearth-serial-7"));
    try (MicroVm vm = MicroVm.create(guest(devices), null)) {
      vm.start();
      awaitExit(vm);
      String out = vm.console().text();
      assertThat(out)
          .contains("virtio: device 2 at 0xd0001000\n")
          .contains("blk: capacity 128 sectors\n")
          .contains("blk: read sector 0 status 0 text 'HEARTH-DISK-SECTOR-0 written by the host'\n")
          .contains("blk: write sector 1 status 0\n")
          .contains("blk: flush status 0\n")
          .contains("blk: id status 0 serial 'hearth-serial-7'\n")
          .contains("blk: read past the end status 1\n")
          .contains("virtio: done\n");
      // What metrics see: one sector each way; read, write, flush and GET_ID passed the limiter
      // (the read past the end fails before it).
      VmCounters counters = vm.counters();
      assertThat(counters.drives()).containsEntry("data", new VmCounters.Drive(512, 512));
      assertThat(counters.limiters())
          .containsEntry(LimiterId.of("data"), new RateLimiter.Counters(4, 1024, 0, 0));
      assertThat(counters.vcpuExits()).singleElement().satisfies(n -> assertThat(n).isPositive());
    }
    byte[] sector1 = Arrays.copyOfRange(Files.readAllBytes(disk), 512, 1024);
    byte[] expected = new byte[512];
    for (int i = 0; i < 512; i++) {
      expected[i] = (byte) i;
    }
    byte[] msg = "WRITTEN-BY-THE-HEARTH-TEST-GUEST".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(msg, 0, expected, 0, msg.length);
    assertThat(sector1).isEqualTo(expected);
  }

  @Test
  void aReadOnlyDriveRefusesTheWriteAndKeepsItsFile() throws Exception {
    Path disk = disk();
    byte[] before = Files.readAllBytes(disk);
    try (MicroVm vm =
        MicroVm.create(guest(VmDevices.NONE.withDrive(DriveConfig.of("ro", disk, true))), null)) {
      vm.start();
      awaitExit(vm);
      assertThat(vm.console().text())
          .contains("blk: read sector 0 status 0 text 'HEARTH-DISK-SECTOR-0")
          .contains("blk: write sector 1 status 1\n");
    }
    assertThat(Files.readAllBytes(disk)).isEqualTo(before);
  }

  @Test
  @RequiresRoot
  void aFrameCrossesARealTapBothWays() throws Exception {
    String tapName = "hrt" + ProcessHandle.current().pid() % 100000;
    try (HostTap tap = HostTap.create(tapName, ETHERTYPE)) {
      VmDevices devices =
          VmDevices.NONE.withNetInterface(NetInterfaceConfig.of("eth0", tapName, MAC));
      try (MicroVm vm = MicroVm.create(guest(devices), null)) {
        vm.start();
        byte[] frame =
            tap.receive(Duration.ofSeconds(30))
                .orElseThrow(
                    () ->
                        new AssertionError(
                            "no frame from the guest; console:\n" + vm.console().text()));
        assertThat(Arrays.copyOfRange(frame, 0, 6)).containsOnly((byte) 0xff);
        assertThat(Arrays.copyOfRange(frame, 6, 12)).isEqualTo(MAC.octets());
        assertThat(new String(frame, 14, 23, StandardCharsets.US_ASCII))
            .isEqualTo("HEARTH-FRAME-FROM-GUEST");

        byte[] reply = new byte[60];
        System.arraycopy(MAC.octets(), 0, reply, 0, 6);
        System.arraycopy(MacAddress.parse("06:00:ac:10:00:01").octets(), 0, reply, 6, 6);
        reply[12] = (byte) (ETHERTYPE >> 8);
        reply[13] = (byte) ETHERTYPE;
        byte[] text = "HEARTH-FRAME-FROM-HOST".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, reply, 14, text.length);
        tap.send(reply);

        awaitExit(vm);
        assertThat(vm.console().text())
            .contains("net: mac 0x6:0x0:0xac:0x10:0x0:0x2\n")
            .contains("net: frame sent\n")
            .contains("net: received 60 bytes for my mac payload 'HEARTH-FRAME-FROM-HOST'\n");
      }
    }
    assertThat(HostTap.exists(tapName)).as("the test removed its tap").isFalse();
  }

  @Test
  void vsockCarriesBytesBothWaysOverTheHostUnixSockets() throws Exception {
    Path uds = dir.resolve("v.sock");
    VmDevices devices = VmDevices.NONE.withVsock(new VsockDeviceConfig(42, uds));
    try (ServerSocketChannel port5000 = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      port5000.bind(UnixDomainSocketAddress.of(uds + "_5000"));
      try (MicroVm vm = MicroVm.create(guest(devices), null)) {
        assertThat(uds).exists();
        vm.start();
        try (SocketChannel fromGuest = accept(port5000, vm)) {
          assertThat(readLine(fromGuest, vm)).isEqualTo("ping from the guest");
          fromGuest.write(
              ByteBuffer.wrap("pong from the host\n".getBytes(StandardCharsets.US_ASCII)));
        }
        MicroVmKvmIT.awaitConsole(vm, "vsock: listening on 1024\n");
        try (SocketChannel toGuest = SocketChannel.open(UnixDomainSocketAddress.of(uds))) {
          toGuest.write(ByteBuffer.wrap("CONNECT 1024\n".getBytes(StandardCharsets.US_ASCII)));
          assertThat(readLine(toGuest, vm)).startsWith("OK ");
          toGuest.write(ByteBuffer.wrap("hello guest\n".getBytes(StandardCharsets.US_ASCII)));
          assertThat(readLine(toGuest, vm)).isEqualTo("echo: hello guest");
        }
        awaitExit(vm);
        assertThat(vm.console().text())
            .contains("vsock: cid 42\n")
            .contains("vsock: guest-initiated got 'pong from the host'\n")
            .contains("vsock: host-initiated got 'hello guest'\n")
            .contains("vsock: done\n");
      }
      assertThat(uds).as("the VM removed its socket").doesNotExist();
    }
  }

  @Test
  void rngBytesReachTheGuestAndALiveLimiterUpdateReleasesAHeldQueue() throws Exception {
    // 64 bytes, then nothing for a minute: the guest's second request waits on the limiter.
    RateLimiterConfig tight =
        new RateLimiterConfig(new TokenBucketConfig(64, 0, 60_000), TokenBucketConfig.DISABLED);
    try (MicroVm vm = MicroVm.create(guest(VmDevices.NONE.withRng(new RngConfig(tight))), null)) {
      assertThat(vm.rateLimiters().ids()).isEqualTo(Set.of(LimiterId.of("rng")));
      assertThatThrownBy(
              () ->
                  vm.rateLimiters()
                      .update(LimiterId.of("disk"), BucketUpdate.KEEP, BucketUpdate.KEEP))
          .isInstanceOf(VmException.class)
          .hasMessageContaining("no rate limiter 'disk'")
          .hasMessageContaining("[rng]");
      vm.start();
      MicroVmKvmIT.awaitConsole(vm, "virtio: device 4");
      Thread.sleep(1000);
      assertThat(vm.console().text()).doesNotContain("rng: got");
      vm.rateLimiters()
          .update(
              LimiterId.of("rng"), BucketUpdate.set(TokenBucketConfig.DISABLED), BucketUpdate.KEEP);
      awaitExit(vm);
      String out = vm.console().text();
      assertThat(out).contains("rng: got 256 bytes, ");
      int nonZero =
          Integer.parseInt(out.replaceAll("(?s).*bytes, (\\d+) of them non-zero.*", "$1"));
      assertThat(nonZero).as("non-zero bytes of 256 random ones").isGreaterThan(200);
    }
  }

  @Test
  @RequiresRoot
  @Tag(KvmSuiteInsideL1.HANGS_INSIDE_L1)
  void vmsWithEveryDeviceLeaveNoFdThreadTapOrSocketBehind() throws Exception {
    String tapName = "hrd" + ProcessHandle.current().pid() % 100000;
    Path disk = disk();
    try (HostTap _ = HostTap.create(tapName, ETHERTYPE)) {
      cycleAllDevices(tapName, disk, 0); // warm up: classes loaded, handlers installed
      long fds = count("/proc/self/fd");
      long threads = count("/proc/self/task");
      for (int i = 1; i <= 20; i++) {
        cycleAllDevices(tapName, disk, i);
      }
      assertThat(count("/proc/self/fd")).as("open fds").isEqualTo(fds);
      assertThat(Thread.getAllStackTraces().keySet())
          .noneMatch(
              t ->
                  t.getName().startsWith("vcpu-")
                      || t.getName().startsWith("events-")
                      || t.getName().startsWith("vsock-"));
      assertThat(count("/proc/self/task")).as("native threads").isLessThanOrEqualTo(threads + 2);
    }
    assertThat(HostTap.exists(tapName)).isFalse();
  }

  private void cycleAllDevices(String tapName, Path disk, int i) throws Exception {
    Path uds = dir.resolve("t" + i + ".sock");
    VmDevices devices =
        VmDevices.NONE
            .withDrive(DriveConfig.of("d", disk, true))
            .withNetInterface(NetInterfaceConfig.of("n", tapName, MAC))
            .withVsock(new VsockDeviceConfig(3 + i, uds))
            .withRng(RngConfig.UNLIMITED);
    try (MicroVm vm = MicroVm.create(guest(devices), null)) {
      assertThat(vm.rateLimiters().ids())
          .containsExactlyInAnyOrder(
              LimiterId.of("d"), LimiterId.rx("n"), LimiterId.tx("n"), LimiterId.of("rng"));
      vm.start();
      if (i % 5 == 0) {
        // Let this one reach its devices: the drive served, a frame went out through the tap.
        MicroVmKvmIT.awaitConsole(vm, "net: frame sent\n");
      }
      vm.stop();
      VmExit exit = vm.waitForExit(Duration.ofSeconds(60)).orElseThrow();
      assertThat(exit.reason()).isIn(ExitReason.RESET, ExitReason.STOPPED);
    }
    assertThat(uds).doesNotExist();
  }

  /** Reads one line within 20 s; a timeout fails with the guest's console so far. */
  private static String readLine(SocketChannel ch, MicroVm vm) {
    try {
      return HybridVsockClient.readLine(ch);
    } catch (IOException e) {
      throw new AssertionError(
          e.getMessage() + "; console:\n" + vm.console().text() + "\nthreads:\n" + vmThreads(), e);
    }
  }

  private static String vmThreads() {
    StringBuilder sb = new StringBuilder();
    Thread.getAllStackTraces()
        .forEach(
            (t, stack) -> {
              if (t.getName().startsWith("vsock-") || t.getName().startsWith("events-")) {
                sb.append(t.getName()).append(' ').append(t.getState()).append('\n');
                for (StackTraceElement e : stack) {
                  sb.append("    at ").append(e).append('\n');
                }
              }
            });
    return sb.toString();
  }

  private static SocketChannel accept(ServerSocketChannel server, MicroVm vm) throws Exception {
    server.configureBlocking(false);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    SocketChannel ch;
    while ((ch = server.accept()) == null) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the guest did not connect; console:\n" + vm.console().text());
      }
      Thread.sleep(5);
    }
    return ch;
  }

  private static long count(String path) throws IOException {
    try (Stream<Path> s = Files.list(Path.of(path))) {
      return s.count();
    }
  }
}
