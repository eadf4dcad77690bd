package dev.hearth.vmm.vm;

import dev.hearth.vmm.kvm.Regs;
import dev.hearth.vmm.kvm.Sregs;

/** A vCPU's registers at the moment the guest crashed. */
public record RegisterDump(int vcpu, Regs regs, Sregs sregs) {
  @Override
  public String toString() {
    return "vCPU " + vcpu + ":\n" + regs + "\n" + sregs;
  }
}
