package dev.hearth.agent.reconcile;

import dev.hearth.api.client.MetadataPatches;
import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
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
          "console",
          "runState",
          "runStateTransition");

  private static final PatchContext JSON_PATCH = MetadataPatches.jsonPatch(StatusApply.AGENT);

  private final KubernetesClient client;
  private final StatusApply apply;

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
            : client
                .getKubernetesSerialization()
                .convertValue(current.getStatus(), MicroVMStatus.class);
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
      String patch = current == null ? null : MetadataPatches.removeAgentFinalizer(current);
      if (patch == null) {
        return;
      }
      try {
        client.resource(current).patch(JSON_PATCH, patch);
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
