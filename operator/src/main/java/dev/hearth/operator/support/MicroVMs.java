package dev.hearth.operator.support;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.operator.scheduling.Resources;
import dev.hearth.operator.scheduling.SchedulerConfig;
import dev.hearth.operator.scheduling.VmRequest;
import java.util.Map;

/** Facts about a MicroVM that several reconcilers need. */
public final class MicroVMs {
  private MicroVMs() {}

  /** namespace/name. */
  public static String key(MicroVM vm) {
    return vm.getMetadata().getNamespace() + "/" + vm.getMetadata().getName();
  }

  /** The node it is bound to (status.nodeName), or null. */
  public static String boundNode(MicroVM vm) {
    return vm.getStatus() == null ? null : vm.getStatus().getNodeName();
  }

  public static MicroVMPhase phase(MicroVM vm) {
    return vm.getStatus() == null ? null : vm.getStatus().getPhase();
  }

  public static boolean deleting(MicroVM vm) {
    return vm.getMetadata().getDeletionTimestamp() != null;
  }

  /** Whether it holds node resources: bound and not finished. */
  public static boolean holdsResources(MicroVM vm) {
    return boundNode(vm) != null && !vm.finished();
  }

  public static boolean hasNodeLabel(MicroVM vm, String node) {
    Map<String, String> labels = vm.getMetadata().getLabels();
    return labels != null && node.equals(labels.get(HearthApi.NODE_LABEL));
  }

  public static boolean hasAgentFinalizer(MicroVM vm) {
    return vm.getMetadata().getFinalizers() != null
        && vm.getMetadata().getFinalizers().contains(HearthApi.AGENT_FINALIZER);
  }

  /** What it takes from a node, VMM overhead included. */
  public static Resources footprint(MicroVM vm, SchedulerConfig config) {
    MicroVMSpec spec = vm.getSpec();
    if (spec == null) {
      return config.footprint(1, 128);
    }
    return config.footprint(spec.vcpusOrDefault(), spec.memoryMiBOrDefault());
  }

  public static VmRequest request(MicroVM vm, SchedulerConfig config) {
    MicroVMSpec spec = vm.getSpec() == null ? new MicroVMSpec() : vm.getSpec();
    return new VmRequest(
        key(vm),
        footprint(vm, config),
        spec.getNodeSelector(),
        spec.getTolerations(),
        spec.getNodeName());
  }
}
