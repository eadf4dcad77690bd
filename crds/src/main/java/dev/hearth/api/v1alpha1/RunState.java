package dev.hearth.api.v1alpha1;

/**
 * Whether a MicroVM's guest runs: the desired state in {@code spec.runState}, the observed one in
 * {@code status.runState}. Paused keeps the guest in memory with its vCPUs stopped; Suspended
 * writes its memory and device state to a snapshot on its node and frees the memory, and Running
 * again restores it there, so the guest goes on where it stopped without booting again.
 */
public enum RunState {
  /** The guest runs (booted, or resumed from Paused, or restored from Suspended). */
  Running,
  /** The vCPUs are stopped; memory, devices, taps and address stay held on the node. */
  Paused,
  /**
   * A snapshot on the node holds the guest; its memory and VMM are freed. The VM stays bound to its
   * node, whose capacity it keeps, so that it can always resume there.
   */
  Suspended
}
