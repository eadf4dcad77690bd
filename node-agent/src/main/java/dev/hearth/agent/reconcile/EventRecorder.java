package dev.hearth.agent.reconcile;

import dev.hearth.api.v1alpha1.MicroVM;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import java.util.UUID;

/** Core/v1 Events on MicroVMs, so {@code kubectl describe} shows what the agent did and why. */
public final class EventRecorder {
  private final KubernetesClient client;
  private final String component;
  private final String nodeName;

  public EventRecorder(KubernetesClient client, String nodeName) {
    this.client = client;
    this.component = "hearth-agent";
    this.nodeName = nodeName;
  }

  public void normal(MicroVM vm, String reason, String message) {
    record(vm, "Normal", reason, message);
  }

  public void warning(MicroVM vm, String reason, String message) {
    record(vm, "Warning", reason, message);
  }

  private void record(MicroVM vm, String type, String reason, String message) {
    String now = Instant.now().toString();
    var event =
        new EventBuilder()
            .withNewMetadata()
            .withNamespace(vm.getMetadata().getNamespace())
            .withName(
                vm.getMetadata().getName() + "." + UUID.randomUUID().toString().substring(0, 8))
            .endMetadata()
            .withInvolvedObject(
                new ObjectReferenceBuilder()
                    .withApiVersion(vm.getApiVersion())
                    .withKind(vm.getKind())
                    .withNamespace(vm.getMetadata().getNamespace())
                    .withName(vm.getMetadata().getName())
                    .withUid(vm.getMetadata().getUid())
                    .build())
            .withType(type)
            .withReason(reason)
            .withMessage(message.length() > 1024 ? message.substring(0, 1024) : message)
            .withNewSource(component, nodeName)
            .withReportingComponent(component)
            .withReportingInstance(nodeName)
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withCount(1)
            .build();
    try {
      client.v1().events().inNamespace(vm.getMetadata().getNamespace()).resource(event).create();
    } catch (KubernetesClientException e) {
      // An Event is best effort: the condition carries the same information.
    }
  }
}
