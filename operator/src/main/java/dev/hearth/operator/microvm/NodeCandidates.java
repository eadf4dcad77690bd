package dev.hearth.operator.microvm;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.NodeResources;
import dev.hearth.operator.scheduling.NodeCandidate;
import dev.hearth.operator.scheduling.Resources;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Taint;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Merges a MicroVMNode with the core Node of the same name into what the scheduler sees: labels of
 * both (the Node's win), taints of both, unschedulable if either says so, Ready from the
 * MicroVMNode's Ready condition (which the operator derives from the agent's Lease).
 */
public final class NodeCandidates {
  private NodeCandidates() {}

  public static NodeCandidate of(MicroVMNode mvn, Node node) {
    Map<String, String> labels = new HashMap<>();
    if (mvn.getMetadata().getLabels() != null) {
      labels.putAll(mvn.getMetadata().getLabels());
    }
    List<Taint> taints = new ArrayList<>();
    boolean unschedulable = false;
    if (mvn.getSpec() != null) {
      if (mvn.getSpec().getTaints() != null) {
        taints.addAll(mvn.getSpec().getTaints());
      }
      unschedulable = Boolean.TRUE.equals(mvn.getSpec().getUnschedulable());
    }
    if (node != null) {
      if (node.getMetadata().getLabels() != null) {
        labels.putAll(node.getMetadata().getLabels());
      }
      if (node.getSpec() != null) {
        if (node.getSpec().getTaints() != null) {
          taints.addAll(node.getSpec().getTaints());
        }
        unschedulable |= Boolean.TRUE.equals(node.getSpec().getUnschedulable());
      }
    }
    boolean ready =
        mvn.getStatus() != null
            && mvn.getStatus()
                .condition(HearthApi.Conditions.READY)
                .map(c -> HearthApi.Conditions.TRUE.equals(c.getStatus()))
                .orElse(false);
    NodeResources alloc = mvn.getStatus() == null ? null : mvn.getStatus().getAllocatable();
    Resources allocatable =
        alloc == null || alloc.getVcpus() == null || alloc.getMemoryMiB() == null
            ? null
            : new Resources(alloc.getVcpus(), alloc.getMemoryMiB());
    return new NodeCandidate(
        mvn.getMetadata().getName(),
        ready,
        unschedulable,
        labels,
        taints,
        allocatable,
        mvn.getStatus() == null ? null : mvn.getStatus().getVmOverheadMiB(),
        alloc == null ? null : alloc.getMicroVMs());
  }
}
