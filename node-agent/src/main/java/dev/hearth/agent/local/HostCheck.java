package dev.hearth.agent.local;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Whether this host can run a VM, asked before KVM or the host's network is touched: the KVM device
 * exists and this user may open it read-write, and this KVM can boot the kernel.
 *
 * @param kvmDevice the device the VMM opens ({@link LocalRunner#KVM_DEVICE}), or a test's stand-in
 * @param kernelCheck whether KVM here can boot a kernel ({@link
 *     LocalRunner.KernelCheck#LINUX_PROBE})
 */
record HostCheck(Path kvmDevice, LocalRunner.KernelCheck kernelCheck) {

  /** Throws why this host cannot run {@code kernel}, or returns when it can. */
  void canRun(Path kernel) throws HostUnavailableException, KvmCannotRunGuestException {
    checkKvm();
    Optional<String> cannot = kernelCheck.whyKvmCannotBoot(kernel);
    if (cannot.isPresent()) {
      throw new KvmCannotRunGuestException(
          "this host's KVM cannot run the Linux kernel "
              + kernel
              + ": "
              + cannot.get()
              + "; ./hearth boots it inside the nested-KVM harness");
    }
  }

  private void checkKvm() throws HostUnavailableException {
    if (!Files.exists(kvmDevice)) {
      throw new HostUnavailableException(
          "KVM is missing: "
              + kvmDevice
              + " does not exist; Hearth needs a host with KVM (load kvm_intel or kvm_amd)");
    }
    try (FileChannel _ =
        FileChannel.open(kvmDevice, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      // Openable: KVM is there and this user may use it.
    } catch (IOException | SecurityException e) {
      throw new HostUnavailableException(
          "KVM is not permitted: cannot open "
              + kvmDevice
              + " read-write ("
              + e.getMessage()
              + "); run as root or join the group that owns it");
    }
  }
}
