package dev.hearth.api.v1alpha1;

/**
 * Where a MicroVM is in its life. The operator writes Pending and Scheduled; the agent the rest.
 */
public enum MicroVMPhase {
  /** Not yet bound to a node. */
  Pending,
  /** Bound to a node; the agent has not started it yet. */
  Scheduled,
  /** The agent is fetching images, wiring the network or booting. */
  Starting,
  /** The guest runs. */
  Running,
  /** The guest exited successfully and will not be restarted. */
  Succeeded,
  /** The guest failed and will not be restarted. */
  Failed,
  /** The node's agent stopped reporting (its Lease expired). */
  Unknown;

  /** Succeeded or Failed: the VM no longer runs, and will not run again until its spec changes. */
  public boolean finished() {
    return this == Succeeded || this == Failed;
  }
}
