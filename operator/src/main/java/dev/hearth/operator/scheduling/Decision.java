package dev.hearth.operator.scheduling;

/** The scheduler's answer for one VM. */
public sealed interface Decision {
  /** Bind to this node. */
  record Bind(String node) implements Decision {}

  /** Nothing fits; {@code reason} says why, node by node, in kube-scheduler's style. */
  record Unschedulable(String reason) implements Decision {}
}
