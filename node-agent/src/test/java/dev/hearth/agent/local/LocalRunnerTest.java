package dev.hearth.agent.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.image.ImageCache;
import dev.hearth.agent.image.NodeImages;
import dev.hearth.agent.image.PullSecrets;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.agent.spec.SpecMapper;
import dev.hearth.agent.spec.VmPlan;
import dev.hearth.api.v1alpha1.DriveSpec;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.RateLimiterSpec;
import dev.hearth.api.v1alpha1.RestartPolicy;
import dev.hearth.api.v1alpha1.RootfsSpec;
import dev.hearth.api.v1alpha1.TokenBucketSpec;
import dev.hearth.api.v1alpha1.VsockSpec;
import dev.hearth.vmm.config.DriveConfig;
import dev.hearth.vmm.config.SeccompMode;
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
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * KVM is checked before a VM is created, with one sentence the user can act on, and so is whether
 * it can run the kernel; a plan's disks and vsock become the VMM's devices the way the agent makes
 * them.
 */
class LocalRunnerTest {
  @TempDir Path dir;
  private Path images;

  @BeforeEach
  void kernel() throws Exception {
    images = Files.createDirectories(dir.resolve("images"));
    Files.write(images.resolve("kernel.elf"), new byte[] {0x7f, 'E', 'L', 'F'});
  }

  private LocalRunner runner(Path kvmDevice, LocalRunner.KernelCheck check) {
    ImageCache cache =
        new ImageCache(
            dir.resolve("cache"),
            new NodeImages(images),
            1 << 20,
            ImageCache.Timeouts.DEFAULT,
            new SimpleMeterRegistry());
    return new LocalRunner(
        cache,
        kvmDevice,
        check,
        () -> {
          throw new HostUnavailableException("no network in this test");
        },
        new PrintStream(new ByteArrayOutputStream()),
        SeccompMode.ENFORCE,
        PullSecrets.NONE);
  }

  private LocalRunner runner(Path kvmDevice) {
    return runner(kvmDevice, kernel -> Optional.empty());
  }

  private static VmPlan plan(Consumer<MicroVMSpec> customize) throws Exception {
    MicroVMSpec spec = new MicroVMSpec();
    spec.setMemoryMiB(16);
    spec.setKernel(new KernelSpec(ImageSource.ofPath("kernel.elf")));
    customize.accept(spec);
    return new SpecMapper(new VmmRuntime().capabilities()).map(spec);
  }

  @Test
  void missingKvmSaysSo() throws Exception {
    Path none = dir.resolve("no-kvm");
    VmPlan plan = plan(s -> {});
    assertThatThrownBy(
            () -> runner(none).run("t", plan, RestartPolicy.Never, new ByteArrayOutputStream()))
        .isInstanceOf(HostUnavailableException.class)
        .hasMessage(
            "KVM is missing: "
                + none
                + " does not exist; Hearth needs a host with KVM (load kvm_intel or kvm_amd)");
  }

  @Test
  void aKvmDeviceThatCannotBeOpenedIsNotPermitted() throws Exception {
    Path notADevice = Files.createDirectory(dir.resolve("kvm-dir"));
    VmPlan plan = plan(s -> {});
    assertThatThrownBy(
            () ->
                runner(notADevice).run("t", plan, RestartPolicy.Never, new ByteArrayOutputStream()))
        .isInstanceOf(HostUnavailableException.class)
        .hasMessageStartingWith("KVM is not permitted: cannot open " + notADevice);
  }

  @Test
  void aKvmThatCannotRunTheKernelSaysSoBeforeBooting() throws Exception {
    // A read-write openable stand-in for /dev/kvm: the check comes before any KVM call.
    Path kvm = Files.writeString(dir.resolve("kvm"), "");
    VmPlan plan = plan(s -> {});
    LocalRunner emulating = runner(kvm, kernel -> Optional.of("KVM emulates instructions"));
    assertThatThrownBy(
            () -> emulating.run("t", plan, RestartPolicy.Never, new ByteArrayOutputStream()))
        .isInstanceOf(KvmCannotRunGuestException.class)
        .hasMessageContaining("KVM emulates instructions")
        .hasMessageEndingWith("./hearth boots it inside the nested-KVM harness");
  }

  @Test
  void disksAndVsockBecomeVmmDevicesWithPrivateCopiesOfWritableImages() throws Exception {
    Path rootImage = Files.write(images.resolve("root.ext4"), new byte[] {1, 2, 3});
    Path dataImage = Files.write(images.resolve("data.img"), new byte[] {4, 5}).toRealPath();
    VmPlan withDevices =
        plan(
            s -> {
              s.getKernel().setCmdline("quiet");
              s.setRootfs(new RootfsSpec(ImageSource.ofPath("root.ext4")));
              DriveSpec data = new DriveSpec("data", ImageSource.ofPath("data.img"));
              data.setReadOnly(true);
              data.setSerial("SN-9");
              data.setRateLimiter(new RateLimiterSpec(new TokenBucketSpec(4096, 100), null));
              s.setDrives(List.of(data));
              s.setVsock(new VsockSpec(5));
            });
    Path work = Files.createDirectory(dir.resolve("work"));
    VmConfig c =
        runner(dir.resolve("kvm")).config("t", withDevices, work, new ByteArrayOutputStream());

    // The agent's arguments, then the VMM's device arguments, then the user's.
    assertThat(c.boot().cmdline()).startsWith("console=ttyS0 reboot=k panic=1 root=/dev/vda rw ");
    assertThat(c.boot().cmdline()).endsWith(" quiet");
    DriveConfig root = c.devices().drives().get(0);
    assertThat(root.id()).isEqualTo("rootfs");
    assertThat(root.path()).startsWith(work).isNotEqualTo(rootImage);
    assertThat(Files.readAllBytes(root.path())).containsExactly(1, 2, 3);
    DriveConfig data = c.devices().drives().get(1);
    assertThat(data.path()).isEqualTo(dataImage);
    assertThat(data.readOnly()).isTrue();
    assertThat(data.serial()).isEqualTo("SN-9");
    assertThat(data.rateLimit())
        .isEqualTo(
            new RateLimiterConfig(new TokenBucketConfig(4096, 0, 100), TokenBucketConfig.DISABLED));
    assertThat(c.devices().vsock().orElseThrow().guestCid()).isEqualTo(5);
    assertThat(c.devices().vsock().orElseThrow().udsPath().getParent()).isEqualTo(work);
  }

  @Test
  void aBadDriveValueNamesTheManifestField() throws Exception {
    Files.write(images.resolve("d.img"), new byte[] {1});
    VmPlan good =
        plan(
            s -> {
              DriveSpec d = new DriveSpec("data", ImageSource.ofPath("d.img"));
              d.setReadOnly(true);
              s.setDrives(List.of(d));
            });
    // SpecMapper refuses such a serial first; the VMM's refusal, should a plan carry one, is still
    // given in the manifest's terms.
    VmPlan.DiskPlan data = good.drives().getFirst();
    VmPlan bad =
        new VmPlan(
            good.vcpus(),
            good.memoryMiB(),
            good.kernel(),
            good.initrd(),
            good.extraCmdline(),
            good.rootfs(),
            List.of(
                new VmPlan.DiskPlan(data.name(), data.source(), true, Optional.of("x".repeat(21)))),
            good.nics(),
            good.networkPolicy(),
            good.vsockCid(),
            good.limits());
    assertThatThrownBy(
            () -> runner(dir.resolve("kvm")).config("t", bad, dir, new ByteArrayOutputStream()))
        .isInstanceOf(ManifestException.class)
        .hasMessageStartingWith("spec.drives[0].serial: ");
  }

  @Test
  void anImageOutsideTheFolderNamesTheFieldAndNotWhatIsThere() throws Exception {
    Files.createSymbolicLink(images.resolve("passwd"), Path.of("/etc/passwd"));
    VmPlan plan = plan(s -> s.setInitrd(ImageSource.ofPath("passwd")));
    assertThatThrownBy(
            () -> runner(dir.resolve("kvm")).config("t", plan, dir, new ByteArrayOutputStream()))
        .isInstanceOf(ManifestException.class)
        .hasMessageStartingWith("spec.initrd: node image ")
        .hasMessageContaining("does not exist or is not a regular file inside the images root");
  }
}
