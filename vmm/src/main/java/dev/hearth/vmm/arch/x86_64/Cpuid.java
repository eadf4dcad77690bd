package dev.hearth.vmm.arch.x86_64;

import dev.hearth.vmm.kvm.CpuidEntry;
import java.util.ArrayList;
import java.util.List;

/**
 * The CPUID a vCPU sees: what KVM supports, with this vCPU's APIC id in the topology leaves, the
 * vCPU count, the hypervisor bit, and KVM's hypervisor leaves.
 */
public final class Cpuid {
  static final int HYPERVISOR_BIT = 1 << 31;
  static final int HTT_BIT = 1 << 28;
  static final int KVM_SIGNATURE_LEAF = 0x4000_0000;
  // "KVMKVMKVM\0\0\0" as EBX, ECX, EDX.
  static final int KVM_EBX = 0x4b4d564b;
  static final int KVM_ECX = 0x564b4d56;
  static final int KVM_EDX = 0x4d;

  private Cpuid() {}

  /** The CPUID entries for vCPU {@code apicId} of {@code vcpuCount}. */
  public static List<CpuidEntry> forVcpu(List<CpuidEntry> supported, int apicId, int vcpuCount) {
    List<CpuidEntry> out = new ArrayList<>(supported.size() + 2);
    boolean hasSignature = false;
    for (CpuidEntry e : supported) {
      switch (e.function()) {
        case 1 -> {
          // EBX: APIC id in 31..24, logical processor count in 23..16, CLFLUSH size in 15..8.
          int ebx = (e.ebx() & 0xff) | (8 << 8) | ((vcpuCount & 0xff) << 16) | (apicId << 24);
          int edx = vcpuCount > 1 ? e.edx() | HTT_BIT : e.edx() & ~HTT_BIT;
          out.add(e.withEbx(ebx).withEcx(e.ecx() | HYPERVISOR_BIT).withEdx(edx));
        }
        case 4 -> {
          // EAX 31..26: cores per package minus one. Keep the cache description.
          int eax = e.eax() == 0 ? 0 : (e.eax() & 0x03ff_ffff) | ((vcpuCount - 1) << 26);
          out.add(e.withEax(eax));
        }
        case 0xb, 0x1f -> out.add(e.withEdx(apicId));
        case KVM_SIGNATURE_LEAF -> {
          hasSignature = true;
          out.add(e);
        }
        default -> out.add(e);
      }
    }
    if (!hasSignature) {
      out.add(new CpuidEntry(KVM_SIGNATURE_LEAF, 0, 0, 0x4000_0001, KVM_EBX, KVM_ECX, KVM_EDX));
    }
    return out;
  }
}
