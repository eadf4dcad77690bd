package dev.hearth.vmm.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.harness.KvmSuiteInsideL1;
import dev.hearth.vmm.sys.LibC;
import dev.hearth.vmm.testing.RequiresKvm;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import jdk.jfr.Recording;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * KVM_CREATE_VM in a JVM that signals its threads: JFR's samplers, at their shortest period, hit
 * the MMU notifier's walk of the process's mappings, which then fails with EINTR. Seen twice in 200
 * VMs while profiling the VMM, before {@link Kvm#createVm} tried again.
 */
@RequiresKvm
@Timeout(120)
class CreateVmKvmIT {
  private static final int VMS = 300;

  /** Separate mappings, as thousands of VMs' memory, kvm_run and thread stacks make. */
  private static final int MAPPINGS = 20_000;

  @Test
  @Tag(KvmSuiteInsideL1.HANGS_INSIDE_L1)
  void vmsAreCreatedWhileJfrSamplesEveryMillisecond() {
    List<VmFd> vms = new ArrayList<>();
    List<MemorySegment> maps = new ArrayList<>();
    for (int i = 0; i < MAPPINGS; i++) {
      // Alternating protections keep the kernel from merging neighbours into one mapping.
      int prot = i % 2 == 0 ? LibC.PROT_READ : LibC.PROT_READ | LibC.PROT_WRITE;
      maps.add(LibC.mmap(4096, prot, LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS, -1, 0));
    }
    try (Recording jfr = new Recording();
        Kvm kvm = Kvm.open()) {
      jfr.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(1));
      jfr.enable("jdk.NativeMethodSample").withPeriod(Duration.ofMillis(1));
      jfr.start();
      for (int i = 0; i < VMS; i++) {
        vms.add(kvm.createVm());
      }
      jfr.stop();
    } finally {
      vms.forEach(VmFd::close);
      maps.forEach(LibC::munmap);
    }
    assertThat(vms).hasSize(VMS);
  }
}
