package dev.hearth.agent.reconcile;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The agent's one writer to a MicroVM: the runtime fields of {@code status} by server-side apply
 * under field manager {@value StatusApply#AGENT} (never {@code spec}, never the operator's {@code
 * nodeName}), and the removal of the agent's finalizer.
 */
public final class StatusPatcher {
  /**
   * The status fields the agent applies; a field it leaves out is removed, unless others own it.
   */
  static final List<String> AGENT_FIELDS =
      List.of(
          "phase",
          "conditions",
          "observedGeneration",
          "network",
          "bootTimeMillis",
          "startTime",
          "restartCount",
          "exit",
          "console");

  private static final PatchContext JSON_PATCH =
      new PatchContext.Builder()
          .withPatchType(PatchType.JSON)
          .withFieldManager(StatusApply.AGENT)
          .build();

  private final KubernetesClient client;
  private final StatusApply apply;

  private ObjectNode op(String op, String path, com.fasterxml.jackson.databind.JsonNode value) {
    ObjectNode o = json.createObjectNode();
    o.put("op", op);
    o.put("path", path);
    if (value != null) {
      o.set("value", value);
    }
    return o;
  }

  private final ObjectMapper json = Serialization.jsonMapper();

  public StatusPatcher(KubernetesClient client) {
    this.client = client;
    this.apply = new StatusApply(client, StatusApply.AGENT);
  }

  /**
   * Reads the VM's current status, lets {@code change} edit a copy, and applies the agent's fields
   * of it. Conditions travel as the whole list (it is atomic), built from the freshly read one so
   * the operator's conditions are kept. Returns the updated VM, or empty when the VM is gone.
   */
  public Optional<MicroVM> patch(String namespace, String name, Consumer<MicroVMStatus> change) {
    MicroVM current = client.resources(MicroVM.class).inNamespace(namespace).withName(name).get();
    if (current == null) {
      return Optional.empty();
    }
    MicroVMStatus status =
        current.getStatus() == null
            ? new MicroVMStatus()
            : json.convertValue(current.getStatus(), MicroVMStatus.class);
    change.accept(status);
    try {
      return Optional.of(apply.apply(current, status, AGENT_FIELDS, false));
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /**
   * Removes {@link HearthApi#AGENT_FINALIZER}, guarded by resourceVersion so a concurrent change to
   * the list is not lost (409, then it re-reads and retries).
   */
  public void removeFinalizer(String namespace, String name) {
    for (int attempt = 0; ; attempt++) {
      MicroVM current = client.resources(MicroVM.class).inNamespace(namespace).withName(name).get();
      if (current == null
          || current.getMetadata().getFinalizers() == null
          || !current.getMetadata().getFinalizers().contains(HearthApi.AGENT_FINALIZER)) {
        return;
      }
      List<String> before = current.getMetadata().getFinalizers();
      List<String> remaining = new ArrayList<>(before);
      remaining.remove(HearthApi.AGENT_FINALIZER);
      ArrayNode ops = json.createArrayNode();
      // The test makes it a compare-and-swap: a concurrent change to the list fails it, and we
      // retry.
      ops.add(op("test", "/metadata/finalizers", json.valueToTree(before)));
      ops.add(op("replace", "/metadata/finalizers", json.valueToTree(remaining)));
      try {
        client
            .resources(MicroVM.class)
            .inNamespace(namespace)
            .withName(name)
            .patch(JSON_PATCH, ops.toString());
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404) {
          return;
        }
        if ((e.getCode() != 409 && e.getCode() != 422) || attempt >= 5) {
          throw e;
        }
      }
    }
  }
}
