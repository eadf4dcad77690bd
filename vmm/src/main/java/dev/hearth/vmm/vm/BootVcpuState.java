package dev.hearth.vmm.vm;

import dev.hearth.vmm.arch.x86_64.Lapic;
import dev.hearth.vmm.kvm.VcpuFd;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The FPU and local APIC state a new vCPU boots with (x87 control word 0x37f, MXCSR 0x1f80; LINT0
 * on ExtINT, LINT1 on NMI), set with one ioctl fewer per vCPU: a new vCPU's LAPIC page depends on
 * its id alone, so it is read ({@code KVM_GET_LAPIC}) for the first vCPU of each id in the process
 * and then only written. On a paravirtualised KVM each vCPU ioctl costs 10-20 µs. Only for vCPUs
 * that have never run.
 *
 * <p>{@code KVM_SET_FPU} stays, though KVM's reset state is the same: its readback cannot show it
 * here (a paravirtualised KVM reads MXCSR back as 0 even after setting it).
 */
final class BootVcpuState {
  private static final int FCW = 0x37f;
  private static final int MXCSR = 0x1f80;

  private static final Map<Integer, byte[]> LAPIC_PAGES = new ConcurrentHashMap<>();

  private BootVcpuState() {}

  /** Gives the new {@code vcpu} the boot FPU state and LINT0/LINT1 ({@link Lapic#withLint}). */
  static void apply(VcpuFd vcpu) {
    vcpu.setFpu(FCW, MXCSR);
    // Two threads making their first vCPU of an id may both read it: the same page either way.
    vcpu.setLapic(LAPIC_PAGES.computeIfAbsent(vcpu.id(), id -> Lapic.withLint(vcpu.getLapic())));
  }
}
