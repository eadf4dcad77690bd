package dev.hearth.vmm.config;

/** Whether and how a VM's vCPU and device threads run under their seccomp filters. */
public enum SeccompMode {
  /**
   * The default: a system call off a thread's allow-list fails with EPERM, and the kernel logs it
   * (audit type 1326, in the kernel log).
   */
  ENFORCE,
  /**
   * Every call is allowed, and those off the allow-list are logged: for finding what is missing.
   */
  LOG,
  /** No filter: for debugging only. */
  OFF
}
