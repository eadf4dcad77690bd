package dev.hearth.operator.scheduling;

import io.fabric8.kubernetes.api.model.Taint;
import java.util.List;
import java.util.Map;

/**
 * A node as the scheduler sees it: the MicroVMNode merged with the core Node of the same name.
 *
 * @param allocatable what VMs may use in total; null when the agent has not reported it yet
 * @param vmOverheadMiB host memory each VM costs there beyond its guest memory, as the node reports
 *     it; null for the scheduler's default
 * @param maxVms how many VMs fit there whatever their size (its agent's file descriptors); null
 *     when not limited
 */
public record NodeCandidate(
    String name,
    boolean ready,
    boolean unschedulable,
    Map<String, String> labels,
    List<Taint> taints,
    Resources allocatable,
    Long vmOverheadMiB,
    Integer maxVms) {
  public NodeCandidate {
    labels = labels == null ? Map.of() : Map.copyOf(labels);
    taints = taints == null ? List.of() : List.copyOf(taints);
  }

  /** A node that reports no overhead of its own and no cap on its number of VMs. */
  public NodeCandidate(
      String name,
      boolean ready,
      boolean unschedulable,
      Map<String, String> labels,
      List<Taint> taints,
      Resources allocatable) {
    this(name, ready, unschedulable, labels, taints, allocatable, null, null);
  }
}
