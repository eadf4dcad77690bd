package dev.hearth.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What holds for every rendered object, whatever the values. */
class ChartManifestsTest {
  private static final List<List<String>> VARIANTS =
      List.of(
          List.of(),
          List.of("--set", "agent.kvmAccess=privileged"),
          List.of(
              "--set", "metrics.serviceMonitor.enabled=true",
              "--set", "agent.tolerations[0].operator=Exists",
              "--set", "operator.podAnnotations.a=b",
              "--set", "agent.priorityClassName=system-node-critical",
              "--set", "imagePullSecrets[0]=regcred",
              "--api-versions", "monitoring.coreos.com/v1/ServiceMonitor"));

  @Test
  void everyObjectUsesOnlyFieldsTheKubernetesApiKnows() {
    for (List<String> args : VARIANTS) {
      for (HasMetadata o : Helm.render(args.toArray(String[]::new)).objects()) {
        if (o instanceof GenericKubernetesResource) {
          assertThat(o.getKind())
              .as("only the ServiceMonitor is untyped")
              .isEqualTo("ServiceMonitor");
          continue;
        }
        assertThat(UnknownFields.in(o))
            .as("%s %s with %s", o.getKind(), o.getMetadata().getName(), args)
            .isEmpty();
      }
    }
  }

  @Test
  void theCheckFindsAMisspeltField() {
    Deployment d =
        (Deployment)
            Helm.parse(
                    """
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata: {name: x}
                    spec:
                      template:
                        spec:
                          hostNetwok: true
                          containers: [{name: c, image: i, imagePullPolicy: Never, port: 80}]
                    """)
                .getFirst();
    assertThat(UnknownFields.in(d))
        .containsExactlyInAnyOrder(
            "Deployment.spec.template.spec.hostNetwok",
            "Deployment.spec.template.spec.containers[0].port");
  }

  @Test
  void everyObjectCarriesTheReleaseLabelsAndNamespacedOnesTheReleaseNamespace() {
    for (HasMetadata o : Helm.render().objects()) {
      assertThat(o.getMetadata().getLabels())
          .as("%s %s", o.getKind(), o.getMetadata().getName())
          .containsEntry("app.kubernetes.io/instance", Helm.RELEASE)
          .containsEntry("app.kubernetes.io/part-of", "hearth")
          .containsKey("helm.sh/chart");
      boolean clusterScoped =
          o.getKind().startsWith("Cluster") || o.getKind().startsWith("ValidatingAdmissionPolicy");
      assertThat(o.getMetadata().getNamespace())
          .as("%s %s", o.getKind(), o.getMetadata().getName())
          .isEqualTo(clusterScoped ? null : Helm.NAMESPACE);
    }
  }
}
