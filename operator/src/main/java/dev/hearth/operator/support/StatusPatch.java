package dev.hearth.operator.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Writes a whole status through the status subresource as a JSON Patch whose first operation tests
 * metadata.resourceVersion. A copy that is stale (someone else wrote since it was read, such as
 * another operator replica's bind or the agent's report) fails instead of overwriting: this is what
 * makes a bind happen at most once.
 */
public final class StatusPatch {
  private StatusPatch() {}

  private static final ObjectMapper JSON = new ObjectMapper();

  public static <T extends HasMetadata> T replace(
      KubernetesClient client, T resource, Object status) {
    ArrayNode ops = JSON.createArrayNode();
    ops.addObject()
        .put("op", "replace")
        .put("path", "/metadata/resourceVersion")
        .put("value", resource.getMetadata().getResourceVersion());
    JsonNode value =
        JSON.valueToTree(client.getKubernetesSerialization().convertValue(status, Object.class));
    ops.addObject().put("op", "add").put("path", "/status").set("value", value);
    return client
        .resource(resource)
        .subresource("status")
        .patch(Patches.JSON_PATCH, ops.toString());
  }

  /** Whether a write failed because the copy was stale (or the object is gone). */
  public static boolean isConflict(KubernetesClientException e) {
    return e.getCode() == 409 || e.getCode() == 422 || e.getCode() == 404;
  }
}
