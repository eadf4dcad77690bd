package dev.hearth.operator.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.hearth.api.client.MetadataPatches;
import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.MicroVMNodeStatus;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;

/**
 * The operator's one status writer: server-side apply under field manager {@value
 * StatusApply#OPERATOR} of the fields the operator decides, guarded by the resourceVersion read. A
 * copy that is stale (someone else wrote since it was read, such as another operator replica's bind
 * or the agent's report) answers 409 instead of overwriting: this is what makes a bind happen at
 * most once, and keeps an unschedulable report from unbinding a VM that was bound meanwhile.
 */
public final class StatusPatch {
  /** A MicroVM's status fields the operator applies; the agent applies the runtime ones. */
  static final List<String> MICROVM_FIELDS = List.of("phase", "conditions", "nodeName", "exit");

  /**
   * A MicroVMNode's: its conditions and how many VMs are bound there; capacity and the rest are the
   * agent's. Every apply carries both (a field left out of an apply is removed).
   */
  static final List<String> NODE_FIELDS = List.of("conditions", "microVMs");

  private static final ObjectMapper JSON = new ObjectMapper();

  private final KubernetesClient client;
  private final StatusApply apply;

  public StatusPatch(KubernetesClient client) {
    this.client = client;
    this.apply = new StatusApply(client, StatusApply.OPERATOR);
  }

  /** Applies the operator's fields of {@code status} to the VM, if it is still as {@code read}. */
  public MicroVM apply(MicroVM read, MicroVMStatus status) {
    return apply.apply(read, status, MICROVM_FIELDS, true);
  }

  /**
   * Applies the node's conditions and VM count from {@code status}, if it is still as {@code read}.
   */
  public MicroVMNode apply(MicroVMNode read, MicroVMNodeStatus status) {
    return apply.apply(read, status, NODE_FIELDS, true);
  }

  /**
   * Replaces the VM's whole status, if it is still as {@code read}: for a VM taken off a lost node,
   * whose dead agent's runtime fields (addresses, start time) must go. Server-side apply cannot
   * remove fields another manager owns, so this one write is a JSON Patch (an Update, still under
   * {@value StatusApply#OPERATOR}) whose first operation sets the resourceVersion read, which the
   * server then checks as a precondition.
   */
  public MicroVM reset(MicroVM read, MicroVMStatus status) {
    ArrayNode ops = JSON.createArrayNode();
    ops.addObject()
        .put("op", "replace")
        .put("path", "/metadata/resourceVersion")
        .put("value", read.getMetadata().getResourceVersion());
    JsonNode value =
        JSON.valueToTree(client.getKubernetesSerialization().convertValue(status, Object.class));
    ops.addObject().put("op", "add").put("path", "/status").set("value", value);
    return client
        .resource(read)
        .subresource("status")
        .patch(MetadataPatches.jsonPatch(StatusApply.OPERATOR), ops.toString());
  }

  /**
   * Whether a write failed because the copy was stale or the object is gone: 409, 404, or 422 (a
   * JSON Patch on metadata whose path moved under it).
   */
  public static boolean isConflict(KubernetesClientException e) {
    return StatusApply.isStaleOrGone(e) || e.getCode() == 422;
  }

  /**
   * Whether {@code e} or one of its causes is such a conflict: JOSDK hands a reconciler's failure
   * to its error handler wrapped (in an OperatorException, by the metrics timer among others).
   */
  public static boolean causedByConflict(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof KubernetesClientException k && isConflict(k)) {
        return true;
      }
    }
    return false;
  }
}
