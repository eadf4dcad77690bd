package dev.hearth.e2e;

import dev.hearth.agent.tls.CertificatePin;
import dev.hearth.api.v1alpha1.ConsoleEndpoint;
import dev.hearth.testkit.ControlPlane;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Reads a VM's console as a tenant does: a ServiceAccount of the VM's namespace bound there to the
 * chart's console ClusterRole (label {@code app.kubernetes.io/component=console}), its token, and
 * the agent's certificate pinned by the hash the agent published.
 */
public final class ConsoleAccess {
  static final String ACCOUNT = "e2e-console";

  private ConsoleAccess() {}

  /** {@code GET <endpoint>/vms/<ns>/<name>/console} with a console tenant's token. */
  public static HttpResponse<String> read(
      ControlPlane plane, ConsoleEndpoint endpoint, String namespace, String name)
      throws Exception {
    String token = tenantToken(plane, namespace);
    try (HttpClient http =
        HttpClient.newBuilder()
            .sslContext(new CertificatePin(endpoint.getCertificateSha256()).clientContext())
            .connectTimeout(Duration.ofSeconds(10))
            .build()) {
      return http.send(
          HttpRequest.newBuilder(
                  URI.create(endpoint.getUrl() + "/vms/" + namespace + "/" + name + "/console"))
              .header("Authorization", "Bearer " + token)
              .timeout(Duration.ofSeconds(10))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    }
  }

  private static String tenantToken(ControlPlane plane, String namespace) {
    KubernetesClient admin = plane.client();
    String role =
        admin
            .rbac()
            .clusterRoles()
            .withLabel("app.kubernetes.io/component", "console")
            .list()
            .getItems()
            .stream()
            .map(r -> r.getMetadata().getName())
            .findFirst()
            .orElseThrow(() -> new AssertionError("the chart's console ClusterRole is missing"));
    admin
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withName(ACCOUNT)
                .withNamespace(namespace)
                .endMetadata()
                .build())
        .fieldManager(ControlPlane.FIELD_MANAGER)
        .serverSideApply();
    admin
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName(ACCOUNT)
                .withNamespace(namespace)
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", role)
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(ACCOUNT)
                .withNamespace(namespace)
                .endSubject()
                .build())
        .fieldManager(ControlPlane.FIELD_MANAGER)
        .forceConflicts()
        .serverSideApply();
    try (KubernetesClient tenant = plane.clientAs(namespace, ACCOUNT)) {
      return tenant.getConfiguration().getOauthToken();
    }
  }
}
