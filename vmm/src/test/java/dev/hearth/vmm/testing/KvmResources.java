package dev.hearth.vmm.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * What running or leaked VMs hold in this JVM: vCPU threads and KVM fds. Tests that boot VMs
 * through the agent or the whole system compare these before and after, since they cannot reach the
 * VMs.
 */
public final class KvmResources {
  private KvmResources() {}

  /** Threads running a vCPU of some VM (the VMM names them {@code vcpu-<n>}). */
  public static long vcpuThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("vcpu-"))
        .count();
  }

  /** Fds on KVM objects (/dev/kvm, kvm-vm, kvm-vcpu): what a leaked VM would hold. */
  public static long kvmFds() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(
              fd -> {
                try {
                  return Files.readSymbolicLink(fd).toString().contains("kvm");
                } catch (IOException e) {
                  return false; // closed while listing
                }
              })
          .count();
    }
  }
}
