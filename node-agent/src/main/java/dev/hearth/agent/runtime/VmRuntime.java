package dev.hearth.agent.runtime;

/**
 * What boots VMs for the agent. The agent's reconcile logic depends only on this, so it is tested
 * with a fake; the real implementation adapts the embedded VMM ({@code dev.hearth.vmm}).
 */
public interface VmRuntime {
  /** What this runtime can do; the agent rejects specs that ask for more, with a condition. */
  Capabilities capabilities();

  /**
   * Boots a VM and returns once its vCPUs run. Serial output goes to {@link VmLaunch#console()},
   * counters to {@link VmLaunch#meters()}.
   */
  RunningVm start(VmLaunch launch) throws VmStartException;

  /** Limits of a runtime. */
  record Capabilities(int maxVcpus, boolean initrd, boolean vsock, int maxDrives, int maxNics) {}
}
