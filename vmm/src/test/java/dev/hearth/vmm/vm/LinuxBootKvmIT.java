package dev.hearth.vmm.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.arch.x86_64.X86Layout;
import dev.hearth.vmm.config.BootSource;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.harness.TestGuest;
import dev.hearth.vmm.testing.RequiresLinuxKvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Boots the minimal Linux test guest ({@code vmm/guest/build-guest.sh}) under Hearth's own VMM,
 * from the ELF {@code vmlinux} and from the {@code bzImage}, with its busybox initramfs, and checks
 * what the guest's init reports about itself: the CPUs it sees, the command line, and a clean
 * {@code reboot=k} reset through the i8042. This host's KVM cannot run Linux, so on these machines
 * the build runs this class inside the nested-KVM machine; where KVM runs Linux it runs natively.
 */
@RequiresLinuxKvm
@Timeout(300)
class LinuxBootKvmIT {
  private static final Duration BOOT_LIMIT = Duration.ofSeconds(120);
  private static TestGuest guest;

  @BeforeAll
  static void locateGuest() throws Exception {
    guest = TestGuest.locate();
  }

  private static String cmdline(int cpus) {
    return "console=ttyS0 reboot=k panic=-1 quiet hearth.check=cpus hearth.cpus="
        + cpus
        + " hearth.boottimer=pio:0x"
        + Integer.toHexString(X86Layout.BOOT_TIMER_PORT);
  }

  private static VmExit boot(MicroVm vm) throws InterruptedException {
    vm.start();
    Optional<VmExit> exit = vm.waitForExit(BOOT_LIMIT);
    assertThat(exit)
        .as("the guest ended within %s; console so far:%n%s", BOOT_LIMIT, vm.console().text())
        .isPresent();
    return exit.get();
  }

  private static VmConfig config(String name, Path kernel, int vcpus) {
    return VmConfig.of(
        name, vcpus, 128, new BootSource(kernel, Optional.of(guest.initramfs()), cmdline(vcpus)));
  }

  private static void assertCleanBoot(MicroVm vm, VmExit exit, int cpus) {
    String console = vm.console().text();
    assertThat(console)
        .as("console:%n%s", console)
        .contains(guest.marker() + " ")
        .contains("cpus=" + cpus)
        .contains("root=initramfs")
        .contains("HEARTH-CHECK cpus OK")
        .contains("HEARTH-GUEST-DONE failures=0");
    assertThat(exit.reason()).as("%s; console:%n%s", exit, console).isEqualTo(ExitReason.RESET);
    assertThat(vm.bootTime()).as("the init signalled the boot timer").isPresent();
    assertThat(vm.bootTime().get()).isPositive().isLessThan(exit.uptime());
    System.out.printf(
        "LINUX-BOOT %s cpus=%d boot_timer_ms=%d uptime_ms=%d%n",
        vm.config().name(), cpus, vm.bootTime().get().toMillis(), exit.uptime().toMillis());
  }

  /** The kernel formats the loader takes. */
  enum KernelFormat {
    VMLINUX,
    BZIMAGE;

    Path of(TestGuest g) {
      return this == VMLINUX ? g.vmlinux() : g.bzImage();
    }
  }

  @ParameterizedTest(name = "{0} with {1} vCPU(s)")
  @CsvSource({"VMLINUX, 1", "VMLINUX, 2", "BZIMAGE, 1", "BZIMAGE, 2"})
  void bootsToTheInitWithEveryVcpuOnlineAndResetsThroughTheI8042(KernelFormat format, int vcpus)
      throws Exception {
    String name = "linux-" + format.name().toLowerCase(java.util.Locale.ROOT) + "-" + vcpus;
    try (MicroVm vm = MicroVm.create(config(name, format.of(guest), vcpus), null)) {
      VmExit exit = boot(vm);
      assertCleanBoot(vm, exit, vcpus);
      assertThat(vm.console().text())
          .contains("HEARTH-CHECK cpus OK online=" + vcpus + " expected=" + vcpus);
    }
  }
}
