package dev.hearth.operator.scheduling;

import io.fabric8.kubernetes.api.model.Taint;
import java.util.List;
import java.util.Map;

/**
 * A node as the scheduler sees it: the MicroVMNode merged with the core Node of the same name.
 *
 * @param allocatable what VMs may use in total; null when the agent has not reported it yet
 */
public record NodeCandidate(
    String name,
    boolean ready,
    boolean unschedulable,
    Map<String, String> labels,
    List<Taint> taints,
    Resources allocatable) {
  public NodeCandidate {
    labels = labels == null ? Map.of() : Map.copyOf(labels);
    taints = taints == null ? List.of() : List.copyOf(taints);
  }
}
