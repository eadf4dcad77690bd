package dev.hearth.vmm.kvm;

import java.util.List;

/**
 * One vCPU's state, each part as the kernel's own struct (x86_64).
 *
 * @param regs {@code kvm_regs}
 * @param sregs {@code kvm_sregs}
 * @param fpu {@code kvm_fpu}: x87 and SSE state, restored where {@code xsave} is empty
 * @param xsave {@code kvm_xsave} (4 KiB), or empty where this KVM has no KVM_GET_XSAVE
 * @param xcrs {@code kvm_xcrs}, or empty where this KVM has no KVM_GET_XCRS
 * @param msrs the MSRs of {@code KVM_GET_MSR_INDEX_LIST} that KVM let us read
 * @param lapic the local APIC's register page (1 KiB)
 * @param events {@code kvm_vcpu_events}: pending exceptions, interrupts, NMIs
 * @param mpState {@code kvm_mp_state}: runnable, halted, waiting for INIT/SIPI
 * @param debugRegs {@code kvm_debugregs}
 */
public record VcpuState(
    byte[] regs,
    byte[] sregs,
    byte[] fpu,
    byte[] xsave,
    byte[] xcrs,
    List<MsrEntry> msrs,
    byte[] lapic,
    byte[] events,
    int mpState,
    byte[] debugRegs) {}
