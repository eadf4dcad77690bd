package dev.hearth.agent.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.image.ImageCache;
import dev.hearth.agent.image.ImageSource;
import dev.hearth.vmm.config.DriveConfig;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import dev.hearth.vmm.ratelimit.TokenBucketConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * KVM is checked before a VM is created, with one sentence the user can act on; a plan's disks and
 * vsock become the VMM's devices.
 */
class LocalRunnerTest {
  @TempDir Path dir;

  private LocalRunner runner(Path kvmDevice) {
    ImageCache images =
        new ImageCache(
            dir.resolve("cache"), 1 << 20, ImageCache.Timeouts.DEFAULT, new SimpleMeterRegistry());
    return new LocalRunner(images, kvmDevice, new PrintStream(new ByteArrayOutputStream()));
  }

  private LocalVmPlan plan() throws Exception {
    Path kernel = Files.write(dir.resolve("kernel.elf"), new byte[] {0x7f, 'E', 'L', 'F'});
    return new LocalVmPlan(
        "t", 1, 16, new ImageSource.NodeFile(kernel, Optional.empty()), Optional.empty(), "");
  }

  @Test
  void missingKvmSaysSo() throws Exception {
    Path none = dir.resolve("no-kvm");
    LocalVmPlan plan = plan();
    assertThatThrownBy(() -> runner(none).run(plan, new ByteArrayOutputStream()))
        .isInstanceOf(HostUnavailableException.class)
        .hasMessage(
            "KVM is missing: "
                + none
                + " does not exist; Hearth needs a host with KVM (load kvm_intel or kvm_amd)");
  }

  @Test
  void aKvmDeviceThatCannotBeOpenedIsNotPermitted() throws Exception {
    Path notADevice = Files.createDirectory(dir.resolve("kvm-dir"));
    LocalVmPlan plan = plan();
    assertThatThrownBy(() -> runner(notADevice).run(plan, new ByteArrayOutputStream()))
        .isInstanceOf(HostUnavailableException.class)
        .hasMessageStartingWith("KVM is not permitted: cannot open " + notADevice);
  }

  @Test
  void disksAndVsockBecomeVmmDevicesWithPrivateCopiesOfWritableImages() throws Exception {
    Path rootImage = Files.write(dir.resolve("root.ext4"), new byte[] {1, 2, 3});
    Path dataImage = Files.write(dir.resolve("data.img"), new byte[] {4, 5});
    RateLimiterConfig limit =
        new RateLimiterConfig(new TokenBucketConfig(4096, 0, 100), TokenBucketConfig.DISABLED);
    LocalVmPlan p = plan();
    LocalVmPlan withDevices =
        new LocalVmPlan(
            p.name(),
            p.vcpus(),
            p.memoryMiB(),
            p.kernel(),
            p.initrd(),
            "quiet",
            List.of(
                new LocalVmPlan.Disk(
                    "spec.rootfs",
                    "rootfs",
                    new ImageSource.NodeFile(rootImage, Optional.empty()),
                    false,
                    "",
                    RateLimiterConfig.UNLIMITED),
                new LocalVmPlan.Disk(
                    "spec.drives[0]",
                    "data",
                    new ImageSource.NodeFile(dataImage, Optional.empty()),
                    true,
                    "SN-9",
                    limit)),
            OptionalLong.of(5));
    Path work = Files.createDirectory(dir.resolve("work"));
    VmConfig c =
        runner(dir.resolve("kvm"))
            .config(withDevices, dir.resolve("kernel.elf"), Optional.empty(), work);

    assertThat(c.boot().cmdline()).isEqualTo("root=/dev/vda rw quiet");
    DriveConfig root = c.devices().drives().get(0);
    assertThat(root.id()).isEqualTo("rootfs");
    assertThat(root.path()).startsWith(work).isNotEqualTo(rootImage);
    assertThat(Files.readAllBytes(root.path())).containsExactly(1, 2, 3);
    DriveConfig data = c.devices().drives().get(1);
    assertThat(data.path()).isEqualTo(dataImage);
    assertThat(data.readOnly()).isTrue();
    assertThat(data.serial()).isEqualTo("SN-9");
    assertThat(data.rateLimit()).isEqualTo(limit);
    assertThat(c.devices().vsock().orElseThrow().guestCid()).isEqualTo(5);
    assertThat(c.devices().vsock().orElseThrow().udsPath()).isEqualTo(work.resolve("vsock.sock"));
  }

  @Test
  void aBadDriveValueNamesTheManifestField() throws Exception {
    Path image = Files.write(dir.resolve("d.img"), new byte[] {1});
    LocalVmPlan p = plan();
    LocalVmPlan bad =
        new LocalVmPlan(
            p.name(),
            p.vcpus(),
            p.memoryMiB(),
            p.kernel(),
            p.initrd(),
            "",
            List.of(
                new LocalVmPlan.Disk(
                    "spec.drives[0]",
                    "data",
                    new ImageSource.NodeFile(image, Optional.empty()),
                    true,
                    "x".repeat(21),
                    RateLimiterConfig.UNLIMITED)),
            OptionalLong.empty());
    assertThatThrownBy(() -> runner(dir.resolve("kvm")).config(bad, image, Optional.empty(), dir))
        .isInstanceOf(ManifestException.class)
        .hasMessageStartingWith("spec.drives[0].serial: ");
  }
}
