package dev.hearth.operator.scheduling;

/** How the scheduler picks among nodes that fit. */
public enum SchedulingStrategy {
  /** The node left with the most free room: VMs spread evenly. */
  SPREAD,
  /** The node left with the least free room: nodes fill up one by one. */
  PACK
}
