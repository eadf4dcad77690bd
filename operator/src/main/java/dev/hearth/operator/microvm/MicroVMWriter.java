package dev.hearth.operator.microvm;

import dev.hearth.api.client.MetadataPatches;
import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.Conditions;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import dev.hearth.operator.support.MicroVMs;
import dev.hearth.operator.support.StatusPatch;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.util.Objects;

/**
 * The operator's writes to a MicroVM. Status goes through {@link StatusPatch} (server-side apply
 * guarded by the cached resourceVersion: a stale copy answers 409, so a VM is never bound twice);
 * metadata through JSON Patches with the same precondition. Spec is never written.
 */
public final class MicroVMWriter {
  private final KubernetesClient client;
  private final StatusPatch status;
  private final Clock clock;

  public MicroVMWriter(KubernetesClient client, Clock clock) {
    this.client = client;
    this.status = new StatusPatch(client);
    this.clock = clock;
  }

  /** The operator's status writer, for the node-loss writes. */
  public StatusPatch status() {
    return status;
  }

  /** The VM as the API server has it now, or null when it is gone. */
  public MicroVM fetch(MicroVM vm) {
    return client
        .resources(MicroVM.class)
        .inNamespace(vm.getMetadata().getNamespace())
        .withName(vm.getMetadata().getName())
        .get();
  }

  /** Writes status.nodeName, phase Scheduled and Scheduled=True. Returns the updated VM. */
  public MicroVM bindStatus(MicroVM cached, String node) {
    MicroVM copy = client.getKubernetesSerialization().clone(cached);
    MicroVMStatus status = copy.getStatus() == null ? new MicroVMStatus() : copy.getStatus();
    status.setNodeName(node);
    status.setPhase(MicroVMPhase.Scheduled);
    status.putCondition(
        Conditions.of(
            HearthApi.Conditions.SCHEDULED,
            HearthApi.Conditions.TRUE,
            HearthApi.Reasons.BOUND,
            "bound to node " + node,
            copy.getMetadata().getGeneration(),
            clock.instant()));
    return this.status.apply(cached, status);
  }

  /** Adds label hearth.dev/node and the agent finalizer if either is missing. */
  public MicroVM ensureBindMetadata(MicroVM current, String node) {
    if (MicroVMs.hasNodeLabel(current, node) && MicroVMs.hasAgentFinalizer(current)) {
      return current;
    }
    return patchMetadata(current, MetadataPatches.bindMetadata(current, node));
  }

  /** Applies a {@link MetadataPatches} JSON Patch to the VM's metadata; does nothing for null. */
  public MicroVM patchMetadata(MicroVM current, String patch) {
    if (patch == null) {
      return current;
    }
    // Through the object, not by name: a patch by name first GETs the object from the server, one
    // more request on every bind. The patch carries its own resourceVersion test.
    return client.resource(current).patch(MetadataPatches.jsonPatch(StatusApply.OPERATOR), patch);
  }

  /**
   * Holds the VM Pending with Scheduled=False and the reason. Returns false when status already
   * said exactly that (nothing written).
   */
  public boolean markUnschedulable(MicroVM cached, String reason, String message) {
    Condition old =
        cached.getStatus() == null
            ? null
            : cached.getStatus().condition(HearthApi.Conditions.SCHEDULED).orElse(null);
    if (MicroVMs.phase(cached) == MicroVMPhase.Pending
        && old != null
        && HearthApi.Conditions.FALSE.equals(old.getStatus())
        && Objects.equals(old.getReason(), reason)
        && Objects.equals(old.getMessage(), message)) {
      return false;
    }
    MicroVM copy = client.getKubernetesSerialization().clone(cached);
    MicroVMStatus status = copy.getStatus() == null ? new MicroVMStatus() : copy.getStatus();
    status.setPhase(MicroVMPhase.Pending);
    status.putCondition(
        Conditions.of(
            HearthApi.Conditions.SCHEDULED,
            HearthApi.Conditions.FALSE,
            reason,
            message,
            copy.getMetadata().getGeneration(),
            clock.instant()));
    this.status.apply(cached, status);
    return true;
  }
}
