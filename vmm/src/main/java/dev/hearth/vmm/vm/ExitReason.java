package dev.hearth.vmm.vm;

/** Why a microVM stopped running. */
public enum ExitReason {
  /** The guest reset itself (i8042 reset line, {@code reboot=k}, or a KVM reset event). */
  RESET,
  /** The guest powered itself off. */
  SHUTDOWN,
  /** A vCPU halted with nothing to wake it, where KVM handed the HLT to the VMM. */
  HALTED,
  /** The guest crashed: a triple fault, a failed entry, or an unexpected exit. */
  CRASHED,
  /** KVM could not emulate a guest instruction; the exit carries the instruction bytes. */
  EMULATION_FAILURE,
  /** The host stopped the VM ({@link MicroVm#stop}). */
  STOPPED,
  /** The VMM itself failed while running the guest. */
  VMM_ERROR
}
