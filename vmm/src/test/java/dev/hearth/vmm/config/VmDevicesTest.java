package dev.hearth.vmm.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.vmm.devices.virtio.net.MacAddress;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import dev.hearth.vmm.ratelimit.TokenBucketConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmDevicesTest {
  @TempDir Path dir;

  private static final MacAddress MAC = MacAddress.parse("06:00:ac:10:00:02");

  private Path disk(String name) throws Exception {
    return Files.write(dir.resolve(name), new byte[4096]);
  }

  @Test
  void aVmConfigCarriesItsDevicesAndOfKeepsNone() throws Exception {
    BootSource boot = BootSource.of(disk("kernel"), "");
    assertThat(VmConfig.of("vm", 1, 64, boot).devices()).isEqualTo(VmDevices.NONE);
    RateLimiterConfig limit =
        new RateLimiterConfig(new TokenBucketConfig(1 << 20, 0, 1000), TokenBucketConfig.DISABLED);
    VmDevices devices =
        VmDevices.NONE
            .withDrive(DriveConfig.of("root", disk("root.ext4"), true).withSerial("hearth-root"))
            .withDrive(DriveConfig.of("data", disk("data.img"), false).withRateLimit(limit))
            .withNetInterface(NetInterfaceConfig.of("eth0", "tap0", MAC))
            .withVsock(new VsockDeviceConfig(3, dir.resolve("v.sock")))
            .withRng(RngConfig.UNLIMITED);
    VmConfig c = VmConfig.of("vm", 1, 64, boot).withDevices(devices);
    assertThat(c.devices().count()).isEqualTo(5);
    assertThat(c.devices().drives().get(1).rateLimit()).isEqualTo(limit);
    assertThat(c.devices().drives().get(0).serial()).isEqualTo("hearth-root");
  }

  @Test
  void badDeviceValuesNameTheirField() throws Exception {
    Path d = disk("d");
    assertThatThrownBy(() -> DriveConfig.of("root", dir.resolve("missing"), true))
        .isInstanceOfSatisfying(
            ConfigException.class, e -> assertThat(e.field()).isEqualTo("drives[root].path"))
        .hasMessageContaining("does not exist");
    assertThatThrownBy(() -> DriveConfig.of("a b", d, true)).hasMessageStartingWith("drives[].id:");
    assertThatThrownBy(() -> DriveConfig.of("x", d, true).withSerial("s".repeat(21)))
        .hasMessageStartingWith("drives[x].serial:");
    assertThatThrownBy(() -> NetInterfaceConfig.of("eth0", "a/b", MAC))
        .hasMessageStartingWith("netInterfaces[eth0].tapName:");
    assertThatThrownBy(() -> NetInterfaceConfig.of("eth0", "tap-name-too-long", MAC))
        .hasMessageStartingWith("netInterfaces[eth0].tapName:");
    assertThatThrownBy(
            () -> NetInterfaceConfig.of("eth0", "tap0", MacAddress.parse("01:00:5e:00:00:01")))
        .hasMessage("netInterfaces[eth0].mac: 01:00:5e:00:00:01 is not a unicast address");
    assertThatThrownBy(() -> new VsockDeviceConfig(2, dir.resolve("v")))
        .hasMessageStartingWith("vsock.guestCid:");
    assertThatThrownBy(() -> new VsockDeviceConfig(3, dir.resolve("no/such/dir/v")))
        .hasMessageStartingWith("vsock.udsPath:");
    assertThatThrownBy(() -> new VsockDeviceConfig(3, dir.resolve("x".repeat(120))))
        .hasMessageStartingWith("vsock.udsPath:");
  }

  @Test
  void idsTapsMacsAndPathsAreUniqueAndSlotsAreLimited() throws Exception {
    Path d = disk("d");
    VmDevices one = VmDevices.NONE.withDrive(DriveConfig.of("x", d, true));
    assertThatThrownBy(() -> one.withDrive(DriveConfig.of("x", disk("e"), true)))
        .hasMessage("drives[x].id: device id x is used twice");
    assertThatThrownBy(() -> one.withDrive(DriveConfig.of("y", d, true)))
        .hasMessageStartingWith("drives[y].path: drive path");
    assertThatThrownBy(() -> one.withNetInterface(NetInterfaceConfig.of("x", "tap0", MAC)))
        .hasMessageStartingWith("netInterfaces[x].id:");
    VmDevices nic = VmDevices.NONE.withNetInterface(NetInterfaceConfig.of("a", "tap0", MAC));
    assertThatThrownBy(() -> nic.withNetInterface(NetInterfaceConfig.of("b", "tap0", MAC)))
        .hasMessageStartingWith("netInterfaces[b].tapName:");
    assertThatThrownBy(
            () ->
                nic.withNetInterface(
                    NetInterfaceConfig.of("b", "tap1", MacAddress.parse("06:00:ac:10:00:02"))))
        .hasMessageStartingWith("netInterfaces[b].mac:");
    assertThatThrownBy(() -> VmDevices.NONE.withDrive(DriveConfig.of("rng", d, true)))
        .hasMessageStartingWith("devices:");
    VmDevices many = VmDevices.NONE;
    for (int i = 0; i < VmDevices.MAX_DEVICES; i++) {
      many = many.withDrive(DriveConfig.of("d" + i, disk("disk" + i), true));
    }
    VmDevices full = many;
    assertThatThrownBy(() -> full.withRng(RngConfig.UNLIMITED))
        .hasMessage("devices: 20 devices are more than the 19 virtio-mmio slots");
    assertThat(Set.copyOf(full.drives()).size()).isEqualTo(19);
  }
}
