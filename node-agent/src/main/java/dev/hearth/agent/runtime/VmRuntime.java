package dev.hearth.agent.runtime;

/**
 * What boots VMs for the agent. The agent's reconcile logic depends only on this, so it is tested
 * with a fake; the real implementation adapts the embedded VMM ({@code dev.hearth.vmm}).
 */
public interface VmRuntime extends AutoCloseable {
  /** What this runtime can do; the agent rejects specs that ask for more, with a condition. */
  Capabilities capabilities();

  /**
   * Boots a VM and returns once its vCPUs run. Serial output goes to {@link VmLaunch#console()},
   * counters to {@link VmLaunch#meters()}.
   */
  RunningVm start(VmLaunch launch) throws VmStartException;

  /**
   * Builds a VM from the snapshot in {@code dir} that {@link RunningVm#suspend} wrote and runs it
   * from where it stopped; the guest does not boot again. {@code launch} gives the host side (disk
   * files, taps, vsock, console); its vCPUs, memory and devices must be those of the VM that was
   * suspended. {@code dir} must stay in place while the VM runs (its memory is mapped from it).
   *
   * @throws VmStartException reason {@code RestoreFailed} when the snapshot is missing, damaged or
   *     does not fit {@code launch}, or a start reason when KVM refuses
   */
  RunningVm restore(java.nio.file.Path dir, VmLaunch launch) throws VmStartException;

  /**
   * How many VMs each live VMM process of this runtime holds or is starting, one entry per process;
   * empty for a runtime that runs VMs in the agent's own JVM.
   */
  default java.util.List<Integer> vmsPerVmmProcess() {
    return java.util.List.of();
  }

  /**
   * Releases what the runtime holds beyond its VMs (the VMM processes, say), once the agent has
   * suspended or stopped them; VMs still running end with it. Nothing, by default.
   */
  @Override
  default void close() {}

  /** Limits of a runtime. */
  record Capabilities(int maxVcpus, boolean initrd, boolean vsock, int maxDrives, int maxNics) {}
}
