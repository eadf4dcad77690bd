package dev.hearth.api.client;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.hearth.api.v1alpha1.HearthApi;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.List;
import java.util.Map;

/**
 * JSON Patches (RFC 6902) on metadata only. Each first sets metadata.resourceVersion to the version
 * read: the API server treats a resourceVersion in the patched object as a precondition, so a
 * concurrent change answers 409 instead of being overwritten. (A {@code test} operation would do
 * the same, but the fabric8 mock server that the operator's BindingBench uses drops the connection
 * on a failed test.) They add or remove single entries, so no one else's finalizers are touched,
 * and never touch spec. The operator binds and unbinds with them; both it and the agent remove the
 * agent's finalizer with them.
 */
public final class MetadataPatches {
  private MetadataPatches() {}

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * A JSON Patch under {@code fieldManager} ({@link StatusApply#OPERATOR}, {@link
   * StatusApply#AGENT}).
   */
  public static PatchContext jsonPatch(String fieldManager) {
    return new PatchContext.Builder()
        .withPatchType(PatchType.JSON)
        .withFieldManager(fieldManager)
        .build();
  }

  private static final String NODE_LABEL_PATH =
      "/metadata/labels/" + HearthApi.NODE_LABEL.replace("~", "~0").replace("/", "~1");

  /** Sets the node label and adds the agent finalizer; null when both are already there. */
  public static String bindMetadata(HasMetadata current, String node) {
    ArrayNode ops = guarded(current);
    Map<String, String> labels = current.getMetadata().getLabels();
    // The client reports absent labels as an empty map; the server has no /metadata/labels then,
    // and adding a key under a missing object is refused (422), so the whole map is added.
    if (labels == null || labels.isEmpty()) {
      ops.addObject()
          .put("op", "add")
          .put("path", "/metadata/labels")
          .putObject("value")
          .put(HearthApi.NODE_LABEL, node);
    } else if (!node.equals(labels.get(HearthApi.NODE_LABEL))) {
      ops.addObject().put("op", "add").put("path", NODE_LABEL_PATH).put("value", node);
    }
    List<String> finalizers = current.getMetadata().getFinalizers();
    if (finalizers == null || finalizers.isEmpty()) {
      ops.addObject()
          .put("op", "add")
          .put("path", "/metadata/finalizers")
          .putArray("value")
          .add(HearthApi.AGENT_FINALIZER);
    } else if (!finalizers.contains(HearthApi.AGENT_FINALIZER)) {
      ops.addObject()
          .put("op", "add")
          .put("path", "/metadata/finalizers/-")
          .put("value", HearthApi.AGENT_FINALIZER);
    }
    return ops.size() == 1 ? null : ops.toString();
  }

  /** Removes the node label and the agent finalizer; null when neither is there. */
  public static String unbindMetadata(HasMetadata current) {
    ArrayNode ops = guarded(current);
    Map<String, String> labels = current.getMetadata().getLabels();
    if (labels != null && labels.containsKey(HearthApi.NODE_LABEL)) {
      ops.addObject().put("op", "remove").put("path", NODE_LABEL_PATH);
    }
    removeFinalizer(current, ops);
    return ops.size() == 1 ? null : ops.toString();
  }

  /** Removes only the agent finalizer; null when it is not there. */
  public static String removeAgentFinalizer(HasMetadata current) {
    ArrayNode ops = guarded(current);
    removeFinalizer(current, ops);
    return ops.size() == 1 ? null : ops.toString();
  }

  private static void removeFinalizer(HasMetadata current, ArrayNode ops) {
    List<String> finalizers = current.getMetadata().getFinalizers();
    int i = finalizers == null ? -1 : finalizers.indexOf(HearthApi.AGENT_FINALIZER);
    if (i >= 0) {
      ops.addObject().put("op", "remove").put("path", "/metadata/finalizers/" + i);
    }
  }

  private static ArrayNode guarded(HasMetadata current) {
    ArrayNode ops = JSON.createArrayNode();
    ops.addObject()
        .put("op", "replace")
        .put("path", "/metadata/resourceVersion")
        .put("value", current.getMetadata().getResourceVersion());
    return ops;
  }
}
