package dev.hearth.e2e.system;

import dev.hearth.testkit.ChartRbac;
import dev.hearth.testkit.ControlPlane;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;

/**
 * The API server a scenario runs against: the shared real control plane of this JVM ({@link
 * ControlPlane#shared()}), or the cluster {@code KUBECONFIG} names. It gets Hearth's committed CRDs
 * and the Helm chart's own ServiceAccounts and RBAC for a release of its own ({@link ChartRbac});
 * the operator and every agent connect with their account's token, so the chart's RBAC is what lets
 * them work, and a gap in it fails the scenario. The administrator's client is the test's.
 */
final class ApiServer implements AutoCloseable {
  private final ControlPlane plane;
  private final ChartRbac rbac;

  private ApiServer(ControlPlane plane, ChartRbac rbac) {
    this.plane = plane;
    this.rbac = rbac;
  }

  /** The shared control plane (or KUBECONFIG's cluster), prepared. */
  static ApiServer start() {
    return start(ControlPlane.shared());
  }

  /** {@code plane}, prepared: the CRDs, and the chart's accounts in a release namespace. */
  static ApiServer start(ControlPlane plane) {
    plane.installCrds(crds());
    String release = plane.createNamespace("hearth-e2e");
    return new ApiServer(plane, ChartRbac.install(plane, release, release));
  }

  static Path crds() {
    return ControlPlane.repository().resolve("crds").resolve("yaml");
  }

  ControlPlane plane() {
    return plane;
  }

  /** The administrator's connection: what the test applies and reads through. */
  KubernetesClient client() {
    return plane.client();
  }

  /**
   * The release namespace: where the agents keep their node Leases and the operator its leader
   * Lease, as the chart sets.
   */
  String releaseNamespace() {
    return rbac.namespace();
  }

  /** A new connection as the chart's operator ServiceAccount; close it. */
  KubernetesClient operatorClient() {
    return plane.clientAs(rbac.namespace(), rbac.operatorAccount());
  }

  /**
   * A new connection as the chart's agent ServiceAccount, one per agent, so that cutting it (an
   * agent "killed") leaves the others working; close it.
   */
  KubernetesClient agentClient() {
    return plane.clientAs(rbac.namespace(), rbac.agentAccount());
  }

  /**
   * As {@link #agentClient()}, reaching the API server at {@code server} instead (a proxy in front
   * of it, for example); the server's certificate must name that address.
   */
  KubernetesClient agentClientVia(java.net.URI server) {
    try (KubernetesClient direct = agentClient()) {
      return new io.fabric8.kubernetes.client.KubernetesClientBuilder()
          .withConfig(
              new io.fabric8.kubernetes.client.ConfigBuilder(direct.getConfiguration())
                  .withMasterUrl(server.toString())
                  .build())
          .build();
    }
  }

  /** Creates {@code name} unless it exists. */
  void ensureNamespace(String name) {
    client()
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .createOr(r -> r.update());
  }

  /** Removes the release: its cluster-wide roles and its namespace. The plane itself stays. */
  @Override
  public void close() {
    rbac.close();
    client().namespaces().withName(rbac.namespace()).delete();
  }
}
