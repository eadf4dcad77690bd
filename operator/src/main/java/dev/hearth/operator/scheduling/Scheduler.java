package dev.hearth.operator.scheduling;

import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Picks a node for one VM: filters (Ready, schedulable, nodeSelector, taints, fit net of what is
 * already allocated) then scores by spread or pack. Pure: the caller supplies node usage and
 * serializes decisions.
 */
public final class Scheduler {
  private final SchedulerConfig config;

  public Scheduler(SchedulerConfig config) {
    this.config = config;
  }

  public SchedulerConfig config() {
    return config;
  }

  /**
   * @param usedOn what is already allocated on a node (bound VMs plus in-flight binds, with
   *     overhead)
   */
  public Decision decide(
      VmRequest vm, Collection<NodeCandidate> nodes, Function<String, Resources> usedOn) {
    Map<String, Integer> rejected = new LinkedHashMap<>();
    NodeCandidate best = null;
    double bestScore = 0;
    int considered = 0;
    for (NodeCandidate node : nodes) {
      if (vm.pinnedNode() != null && !vm.pinnedNode().equals(node.name())) {
        continue;
      }
      considered++;
      Optional<String> why = reject(vm, node, usedOn);
      if (why.isPresent()) {
        rejected.merge(why.get(), 1, Integer::sum);
        continue;
      }
      double score =
          freeFractionAfter(
              onNode(vm.footprint(), node), node, onNode(usedOn.apply(node.name()), node));
      if (best == null || better(score, bestScore, node, best)) {
        best = node;
        bestScore = score;
      }
    }
    if (best != null) {
      return new Decision.Bind(best.name());
    }
    if (vm.pinnedNode() != null && considered == 0) {
      return new Decision.Unschedulable(
          "node " + vm.pinnedNode() + " named by spec.nodeName has no MicroVMNode");
    }
    return new Decision.Unschedulable(summary(considered, rejected));
  }

  private Optional<String> reject(
      VmRequest vm, NodeCandidate node, Function<String, Resources> usedOn) {
    if (!node.ready()) {
      return Optional.of("node(s) not Ready");
    }
    if (node.unschedulable()) {
      return Optional.of("node(s) unschedulable");
    }
    if (node.allocatable() == null) {
      return Optional.of("node(s) without reported allocatable resources");
    }
    for (var e : vm.nodeSelector().entrySet()) {
      if (!e.getValue().equals(node.labels().get(e.getKey()))) {
        return Optional.of("node(s) didn't match nodeSelector");
      }
    }
    var taint = Tolerations.firstUntolerated(node.taints(), vm.tolerations());
    if (taint.isPresent()) {
      return Optional.of("node(s) had untolerated taint " + Tolerations.describe(taint.get()));
    }
    Resources used = onNode(usedOn.apply(node.name()), node);
    Resources need = onNode(vm.footprint(), node);
    if (node.maxVms() != null && used.vms() + need.vms() > node.maxVms()) {
      return Optional.of("node(s) full (their most MicroVMs)");
    }
    Resources free = node.allocatable().minus(used);
    if (need.vcpus() > free.vcpus()) {
      return Optional.of("insufficient vCPUs");
    }
    if (need.memoryMiB() > free.memoryMiB()) {
      return Optional.of("insufficient memory");
    }
    return Optional.empty();
  }

  /**
   * Footprints count this config's per-VM overhead; on a node that reports its own, that one counts
   * instead, for every VM.
   */
  private Resources onNode(Resources r, NodeCandidate node) {
    return node.vmOverheadMiB() == null
        ? r
        : r.withOverheadPerVm(node.vmOverheadMiB() - config.vmmOverheadMiB());
  }

  /** The smaller of the free vCPU and memory fractions the node keeps after placing the VM. */
  private static double freeFractionAfter(Resources need, NodeCandidate node, Resources used) {
    Resources free = node.allocatable().minus(used).minus(need);
    double cpu =
        node.allocatable().vcpus() == 0 ? 1 : (double) free.vcpus() / node.allocatable().vcpus();
    double mem =
        node.allocatable().memoryMiB() == 0
            ? 1
            : (double) free.memoryMiB() / node.allocatable().memoryMiB();
    return Math.min(cpu, mem);
  }

  private boolean better(double score, double bestScore, NodeCandidate node, NodeCandidate best) {
    if (score != bestScore) {
      return config.strategy() == SchedulingStrategy.SPREAD ? score > bestScore : score < bestScore;
    }
    // Deterministic tie-break.
    return Comparator.<String>naturalOrder().compare(node.name(), best.name()) < 0;
  }

  private static String summary(int considered, Map<String, Integer> rejected) {
    if (considered == 0) {
      return "0/0 nodes are available: no MicroVMNode is registered";
    }
    return "0/"
        + considered
        + " nodes are available: "
        + new java.util.TreeMap<>(rejected)
            .entrySet().stream()
                .map(e -> e.getValue() + " " + e.getKey())
                .collect(Collectors.joining(", "))
        + ".";
  }
}
