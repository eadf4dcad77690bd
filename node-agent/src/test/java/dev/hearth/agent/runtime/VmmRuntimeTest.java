package dev.hearth.agent.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.vmm.config.ConfigException;
import dev.hearth.vmm.config.VmDevices;
import dev.hearth.vmm.config.VsockDeviceConfig;
import dev.hearth.vmm.ratelimit.LimiterId;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import dev.hearth.vmm.ratelimit.TokenBucketConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How a launch becomes the VMM's devices; booting them is AgentKvmIT's and the VMM's KvmITs'. */
class VmmRuntimeTest {
  @TempDir Path dir;

  private VmLaunch launch(
      List<VmLaunch.Disk> disks, List<VmLaunch.Nic> nics, OptionalLong cid, VmLaunch.Limits limits)
      throws Exception {
    Path kernel = Files.write(dir.resolve("vmlinux"), new byte[] {1});
    return new VmLaunch(
        "default/web-1",
        1,
        64,
        kernel,
        Optional.empty(),
        "console=ttyS0",
        "",
        disks,
        nics,
        cid,
        limits,
        null,
        null);
  }

  @Test
  void disksTapsAndVsockBecomeDevicesWithTheirLimits() throws Exception {
    Path root = Files.write(dir.resolve("root.ext4"), new byte[4096]);
    Path data = Files.write(dir.resolve("data.img"), new byte[4096]);
    VmLaunch.RateLimit tight =
        new VmLaunch.RateLimit(
            Optional.of(new VmLaunch.Bucket(1_000_000, 100, 50)), Optional.empty());
    VmLaunch l =
        launch(
            List.of(
                new VmLaunch.Disk("rootfs", root, true, Optional.empty()),
                new VmLaunch.Disk("data", data, false, Optional.of("SN-1"))),
            List.of(new VmLaunch.Nic("eth0", "hm-abc123", "06:00:0a:00:00:05")),
            OptionalLong.of(7),
            new VmLaunch.Limits(Map.of("data", tight), Map.of(), Map.of("eth0", tight)));
    VmmRuntime runtime = new VmmRuntime(dir.resolve("vsock"));
    VmDevices d = runtime.devices(l);

    assertThat(d.drives()).extracting(x -> x.id()).containsExactly("rootfs", "data");
    assertThat(d.drives().get(0).readOnly()).isTrue();
    assertThat(d.drives().get(0).rateLimit()).isEqualTo(RateLimiterConfig.UNLIMITED);
    assertThat(d.drives().get(1).serial()).isEqualTo("SN-1");
    assertThat(d.drives().get(1).rateLimit().bandwidth())
        .isEqualTo(new TokenBucketConfig(1_000_000, 50, 100));
    assertThat(d.drives().get(1).rateLimit().ops()).isEqualTo(TokenBucketConfig.DISABLED);
    assertThat(d.netInterfaces().get(0).tapName()).isEqualTo("hm-abc123");
    assertThat(d.netInterfaces().get(0).mac().toString()).isEqualTo("06:00:0a:00:00:05");
    assertThat(d.netInterfaces().get(0).rxRateLimit()).isEqualTo(RateLimiterConfig.UNLIMITED);
    assertThat(d.netInterfaces().get(0).txRateLimit().bandwidth().size()).isEqualTo(1_000_000);
    VsockDeviceConfig v = d.vsock().orElseThrow();
    assertThat(v.guestCid()).isEqualTo(7);
    assertThat(v.udsPath().getParent()).isEqualTo(dir.resolve("vsock")).isDirectory();
    assertThat(v.udsPath().getFileName().toString()).startsWith("default.web-1-").endsWith(".sock");
    assertThat(runtime.capabilities().vsock()).isTrue();
    assertThat(runtime.capabilities().maxDrives()).isPositive();
  }

  @Test
  void aLongVmNameStillGivesAUsableSocketPathAndABadMacIsAConfigError() throws Exception {
    VmmRuntime runtime = new VmmRuntime(Path.of("/run/hearth/vsock"));
    Path p = runtime.vsockPath("namespace-" + "x".repeat(50) + "/vm-" + "y".repeat(50));
    assertThat(p.toString().length()).isLessThanOrEqualTo(VsockDeviceConfig.MAX_UDS_PATH);
    VmLaunch bad =
        launch(
            List.of(),
            List.of(new VmLaunch.Nic("eth0", "hm-1", "not-a-mac")),
            OptionalLong.empty(),
            VmLaunch.Limits.NONE);
    assertThatThrownBy(() -> runtime.devices(bad))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("netInterfaces[eth0].mac:");
  }

  @Test
  void vmsWhoseNamesShareAPrefixAndAStringHashGetDifferentSockets() {
    VmmRuntime runtime = new VmmRuntime(Path.of("/run/hearth/vsock"));
    // "Aa" and "BB" have the same String.hashCode, and so do these ids.
    String prefix = "tenant-a/" + "v".repeat(50);
    assertThat((prefix + "Aa").hashCode()).isEqualTo((prefix + "BB").hashCode());
    assertThat(runtime.vsockPath(prefix + "Aa")).isNotEqualTo(runtime.vsockPath(prefix + "BB"));
    // Names that differ only where the path's readable part cuts them off differ too.
    assertThat(runtime.vsockPath("ns/" + "x".repeat(80) + "1"))
        .isNotEqualTo(runtime.vsockPath("ns/" + "x".repeat(80) + "2"));
  }

  @Test
  void limiterIdsFindTheirLaunchLimits() {
    VmLaunch.RateLimit a = new VmLaunch.RateLimit(Optional.empty(), Optional.empty());
    VmLaunch.RateLimit b = new VmLaunch.RateLimit(Optional.empty(), Optional.empty());
    VmLaunch.RateLimit c = new VmLaunch.RateLimit(Optional.empty(), Optional.empty());
    VmLaunch.Limits limits =
        new VmLaunch.Limits(Map.of("data", a), Map.of("eth0", b), Map.of("eth0", c));
    assertThat(VmmRuntime.limitFor(LimiterId.of("data"), limits)).isSameAs(a);
    assertThat(VmmRuntime.limitFor(LimiterId.rx("eth0"), limits)).isSameAs(b);
    assertThat(VmmRuntime.limitFor(LimiterId.tx("eth0"), limits)).isSameAs(c);
    assertThat(VmmRuntime.limitFor(LimiterId.of("rootfs"), limits)).isNull();
    // A device named like another's traffic is still its own device.
    assertThat(VmmRuntime.limitFor(LimiterId.of("eth0.rx"), limits)).isNull();
    assertThat(LimiterId.rx("eth0")).hasToString("eth0.rx");
  }
}
