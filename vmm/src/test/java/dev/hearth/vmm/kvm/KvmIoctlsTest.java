package dev.hearth.vmm.kvm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The computed ioctl numbers match those {@code <linux/kvm.h>} yields on x86_64. */
class KvmIoctlsTest {

  @Test
  void numbersMatchTheKernelHeaders() {
    assertThat(KvmIoctls.KVM_GET_API_VERSION).isEqualTo(0xAE00L);
    assertThat(KvmIoctls.KVM_CREATE_VM).isEqualTo(0xAE01L);
    assertThat(KvmIoctls.KVM_GET_VCPU_MMAP_SIZE).isEqualTo(0xAE04L);
    assertThat(KvmIoctls.KVM_GET_SUPPORTED_CPUID).isEqualTo(0xC008AE05L);
    assertThat(KvmIoctls.KVM_CREATE_VCPU).isEqualTo(0xAE41L);
    assertThat(KvmIoctls.KVM_SET_USER_MEMORY_REGION).isEqualTo(0x4020AE46L);
    assertThat(KvmIoctls.KVM_SET_TSS_ADDR).isEqualTo(0xAE47L);
    assertThat(KvmIoctls.KVM_CREATE_IRQCHIP).isEqualTo(0xAE60L);
    assertThat(KvmIoctls.KVM_IRQ_LINE).isEqualTo(0x4008AE61L);
    assertThat(KvmIoctls.KVM_IRQFD).isEqualTo(0x4020AE76L);
    assertThat(KvmIoctls.KVM_CREATE_PIT2).isEqualTo(0x4040AE77L);
    assertThat(KvmIoctls.KVM_IOEVENTFD).isEqualTo(0x4040AE79L);
    assertThat(KvmIoctls.KVM_RUN).isEqualTo(0xAE80L);
    assertThat(KvmIoctls.KVM_GET_REGS).isEqualTo(0x8090AE81L);
    assertThat(KvmIoctls.KVM_SET_REGS).isEqualTo(0x4090AE82L);
    assertThat(KvmIoctls.KVM_GET_SREGS).isEqualTo(0x8138AE83L);
    assertThat(KvmIoctls.KVM_SET_SREGS).isEqualTo(0x4138AE84L);
    assertThat(KvmIoctls.KVM_GET_MSRS).isEqualTo(0xC008AE88L);
    assertThat(KvmIoctls.KVM_SET_MSRS).isEqualTo(0x4008AE89L);
    assertThat(KvmIoctls.KVM_GET_FPU).isEqualTo(0x81A0AE8CL);
    assertThat(KvmIoctls.KVM_SET_FPU).isEqualTo(0x41A0AE8DL);
    assertThat(KvmIoctls.KVM_GET_LAPIC).isEqualTo(0x8400AE8EL);
    assertThat(KvmIoctls.KVM_SET_LAPIC).isEqualTo(0x4400AE8FL);
    assertThat(KvmIoctls.KVM_SET_CPUID2).isEqualTo(0x4008AE90L);
  }

  @Test
  void gdtEntriesUnpackIntoKvmSegments() {
    Segment code = Segment.fromGdtEntry(1, 0x00af9b000000ffffL);
    assertThat(code.selector()).isEqualTo(8);
    assertThat(code.base()).isZero();
    assertThat(code.limit()).isEqualTo(0xffffffff);
    assertThat(code.type()).isEqualTo(0xb);
    assertThat(code.present()).isEqualTo(1);
    assertThat(code.s()).isEqualTo(1);
    assertThat(code.l()).isEqualTo(1);
    assertThat(code.db()).isZero();
    assertThat(code.g()).isEqualTo(1);
    assertThat(code.unusable()).isZero();
    Segment data = Segment.fromGdtEntry(2, 0x00cf93000000ffffL);
    assertThat(data.type()).isEqualTo(3);
    assertThat(data.db()).isEqualTo(1);
    assertThat(data.l()).isZero();
  }
}
