package dev.hearth.vmm.arch.x86_64;

import dev.hearth.vmm.kvm.MsrEntry;
import java.util.List;

/** The MSRs a vCPU starts with: syscall MSRs cleared, fast strings on, MTRRs enabled (WB). */
public final class BootMsrs {
  static final int IA32_TSC = 0x10;
  static final int IA32_SYSENTER_CS = 0x174;
  static final int IA32_SYSENTER_ESP = 0x175;
  static final int IA32_SYSENTER_EIP = 0x176;
  static final int IA32_MISC_ENABLE = 0x1a0;
  static final int MTRR_DEF_TYPE = 0x2ff;
  static final int STAR = 0xc000_0081;
  static final int LSTAR = 0xc000_0082;
  static final int CSTAR = 0xc000_0083;
  static final int SYSCALL_MASK = 0xc000_0084;
  static final int KERNEL_GS_BASE = 0xc000_0102;

  private BootMsrs() {}

  /** The entries for {@code KVM_SET_MSRS}. */
  public static List<MsrEntry> entries() {
    return List.of(
        new MsrEntry(IA32_SYSENTER_CS, 0),
        new MsrEntry(IA32_SYSENTER_ESP, 0),
        new MsrEntry(IA32_SYSENTER_EIP, 0),
        new MsrEntry(STAR, 0),
        new MsrEntry(CSTAR, 0),
        new MsrEntry(KERNEL_GS_BASE, 0),
        new MsrEntry(SYSCALL_MASK, 0),
        new MsrEntry(LSTAR, 0),
        new MsrEntry(IA32_TSC, 0),
        new MsrEntry(IA32_MISC_ENABLE, 1),
        new MsrEntry(MTRR_DEF_TYPE, (1 << 11) | 6));
  }
}
