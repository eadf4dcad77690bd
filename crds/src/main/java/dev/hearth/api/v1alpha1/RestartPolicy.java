package dev.hearth.api.v1alpha1;

/** What happens when the guest exits, and whether a VM on a lost node is rescheduled. */
public enum RestartPolicy {
  /** Restart whatever the exit; reschedule when the node is lost. */
  Always,
  /** Restart after a failed exit; reschedule when the node is lost. */
  OnFailure,
  /** Never restart; a VM on a lost node becomes Failed. */
  Never;

  /** Whether a VM with this policy is moved to another node when its node is lost. */
  public boolean reschedulesOnNodeLoss() {
    return this != Never;
  }
}
