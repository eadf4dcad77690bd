package dev.hearth.vmm.testing;

import dev.hearth.vmm.vm.VmExit;
import java.util.Optional;

/**
 * The tests' view of {@link dev.hearth.vmm.vm.LinuxKvmProbe}, the same probe {@code hearth run}
 * uses: whether this host has a usable {@code /dev/kvm}, and whether that KVM runs Linux.
 */
public final class LinuxKvmProbe {
  private LinuxKvmProbe() {}

  /** Whether this host has a {@code /dev/kvm} this process may use, whatever it can run. */
  public static boolean hostHasKvm() {
    return HostRequirement.KVM.whyMissing().isEmpty();
  }

  /** Empty when KVM here runs Linux guests, else a sentence saying why it cannot. */
  public static Optional<String> whyLinuxCannotRun() {
    Optional<String> noKvm = HostRequirement.KVM.whyMissing();
    return noKvm.isPresent() ? noKvm : dev.hearth.vmm.vm.LinuxKvmProbe.whyLinuxCannotRun();
  }

  static Optional<String> judge(Optional<VmExit> end, String console) {
    return dev.hearth.vmm.vm.LinuxKvmProbe.judge(end, console);
  }
}
