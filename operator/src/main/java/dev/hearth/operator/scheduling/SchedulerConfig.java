package dev.hearth.operator.scheduling;

/**
 * Scheduler settings.
 *
 * @param strategy spread or pack
 * @param vmmOverheadMiB host memory each VM costs beyond its guest memory (VMM threads, buffers),
 *     on nodes that do not report their own
 * @param vmmOverheadVcpus host vCPUs each VM costs beyond its own (usually 0)
 */
public record SchedulerConfig(
    SchedulingStrategy strategy, long vmmOverheadMiB, long vmmOverheadVcpus) {
  /** Host memory (MiB) a VM costs beyond its guest memory unless configured otherwise. */
  public static final long DEFAULT_VMM_OVERHEAD_MIB = 32;

  public static final SchedulerConfig DEFAULT =
      new SchedulerConfig(SchedulingStrategy.SPREAD, DEFAULT_VMM_OVERHEAD_MIB, 0);

  public SchedulerConfig {
    if (strategy == null) {
      throw new IllegalArgumentException("strategy is required");
    }
    if (vmmOverheadMiB < 0 || vmmOverheadVcpus < 0) {
      throw new IllegalArgumentException(
          "VMM overhead must not be negative: " + vmmOverheadMiB + " MiB, " + vmmOverheadVcpus);
    }
  }

  /**
   * What a VM of this size takes from a node, overhead included: this config's, which the scheduler
   * replaces by the node's own where the node reports one.
   */
  public Resources footprint(long vcpus, long memoryMiB) {
    return new Resources(vcpus + vmmOverheadVcpus, memoryMiB + vmmOverheadMiB, 1);
  }
}
