package dev.hearth.vmm.harness;

/**
 * How a run through the nested-KVM harness ended. Only {@link #JOB_EXIT} means the command ran to
 * completion; every other outcome is a harness failure and fails the test that asked for it.
 */
public enum Outcome {
  /** The command ran inside L1 and exited; its exit code is the run's. */
  JOB_EXIT("job-exit"),
  /** L1 did not come up: QEMU failed, the kernel panicked, or init did not run in time. */
  L1_NO_BOOT("l1-no-boot"),
  /** L1 came up but {@code /dev/kvm} did not appear (kvm_amd found no usable AMD-V). */
  NO_KVM("no-kvm"),
  /** L1 died while the command ran, without reporting an exit code. */
  L1_CRASHED("l1-crashed"),
  /** The run's time limit ran out. */
  TIMEOUT("timeout"),
  /** The harness itself failed: bad arguments, a failed build, a disk missing inside L1. */
  SETUP_ERROR("setup-error");

  private final String resultName;

  Outcome(String resultName) {
    this.resultName = resultName;
  }

  /** The name {@code run-in-l1.sh --result} writes for this outcome. */
  public String resultName() {
    return resultName;
  }

  /** Parses the {@code outcome=} value of a result file. */
  static Outcome fromResultName(String name) {
    for (Outcome outcome : values()) {
      if (outcome.resultName.equals(name)) {
        return outcome;
      }
    }
    throw new IllegalArgumentException("unknown harness outcome '" + name + "'");
  }
}
