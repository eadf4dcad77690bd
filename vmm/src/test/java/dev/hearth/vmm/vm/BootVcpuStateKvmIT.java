package dev.hearth.vmm.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.arch.x86_64.Cpuid;
import dev.hearth.vmm.arch.x86_64.Lapic;
import dev.hearth.vmm.kvm.Kvm;
import dev.hearth.vmm.kvm.VcpuFd;
import dev.hearth.vmm.kvm.VmFd;
import dev.hearth.vmm.testing.RequiresKvm;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What {@link BootVcpuState} takes from KVM, on this host's KVM: a new vCPU's LAPIC page depends on
 * its id alone, so one read serves every VM; and a vCPU it set up in any VM has LINT0 on ExtINT and
 * LINT1 on NMI, on the page KVM gave it.
 */
@RequiresKvm
@Timeout(60)
class BootVcpuStateKvmIT {
  private static final int LVT_LINT0 = 0x350;
  private static final int LVT_LINT1 = 0x360;

  private static int deliveryMode(byte[] lapic, int register) {
    return (ByteBuffer.wrap(lapic).order(ByteOrder.LITTLE_ENDIAN).getInt(register) >> 8) & 7;
  }

  /** A vCPU as {@link VmBuilder#vcpus} makes it: its CPUID set for a VM of {@code vcpus}. */
  private static VcpuFd vcpu(Kvm kvm, VmFd vm, int id, int vcpus) {
    VcpuFd vcpu = vm.createVcpu(id);
    vcpu.setCpuid(Cpuid.forVcpu(kvm.supportedCpuid(), id, vcpus));
    return vcpu;
  }

  @Test
  void aNewVcpusLapicPageIsTheSameInEveryVmForItsId() {
    try (Kvm kvm = Kvm.open();
        VmFd a = kvm.createVm();
        VmFd b = kvm.createVm()) {
      a.createIrqchip();
      b.createIrqchip();
      // VMs of two sizes: their CPUID topology differs, the page must not.
      try (VcpuFd a0 = vcpu(kvm, a, 0, 2);
          VcpuFd a1 = vcpu(kvm, a, 1, 2);
          VcpuFd b0 = vcpu(kvm, b, 0, 4);
          VcpuFd b1 = vcpu(kvm, b, 1, 4)) {
        assertThat(b0.getLapic()).isEqualTo(a0.getLapic());
        assertThat(b1.getLapic()).isEqualTo(a1.getLapic());
        assertThat(a1.getLapic()).as("the APIC ID differs").isNotEqualTo(a0.getLapic());
      }
    }
  }

  @Test
  void everyVmsVcpusGetLint0OnExtIntAndLint1OnNmi() {
    for (int vm = 0; vm < 3; vm++) {
      try (Kvm kvm = Kvm.open();
          VmFd v = kvm.createVm()) {
        v.createIrqchip();
        for (int id = 0; id < 2; id++) {
          try (VcpuFd vcpu = vcpu(kvm, v, id, 2)) {
            byte[] fresh = vcpu.getLapic();
            BootVcpuState.apply(vcpu);
            byte[] lapic = vcpu.getLapic();
            assertThat(deliveryMode(lapic, LVT_LINT0)).isEqualTo(7); // ExtINT
            assertThat(deliveryMode(lapic, LVT_LINT1)).isEqualTo(4); // NMI
            assertThat(lapic).isEqualTo(Lapic.withLint(fresh));
          }
        }
      }
    }
  }
}
