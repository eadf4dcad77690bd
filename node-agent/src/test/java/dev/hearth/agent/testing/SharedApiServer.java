package dev.hearth.agent.testing;

import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.testkit.ChartRbac;
import dev.hearth.testkit.ControlPlane;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

/**
 * The real API server every agent test class of the JVM shares ({@link ControlPlane#shared()}),
 * prepared once: Hearth's committed CRDs, and the Helm chart's ServiceAccounts and RBAC for one
 * release in a namespace of its own ({@link #leaseNamespace()}), so that the agent under test runs
 * with the chart's agent token ({@link #agentClient()}) and an RBAC gap fails a test. Classes keep
 * apart by namespace ({@link #createNamespace}) and node name.
 */
public final class SharedApiServer {
  private static ControlPlane plane;
  private static ChartRbac rbac;

  private SharedApiServer() {}

  /** The prepared control plane; skips the calling test when none can be had (outside CI). */
  public static synchronized ControlPlane plane() {
    if (plane == null) {
      ControlPlane p = ControlPlane.shared();
      p.installCrds(ControlPlane.repository().resolve("crds/yaml"));
      String ns = p.createNamespace("agent-tests");
      rbac = ChartRbac.install(p, ns, ns);
      Runtime.getRuntime().addShutdownHook(new Thread(rbac::close, "hearth-agent-rbac-cleanup"));
      plane = p;
    }
    return plane;
  }

  /** The admin client (what a user and the operator do, and what tests read); do not close. */
  public static KubernetesClient client() {
    return plane().client();
  }

  /** A new client with the chart's agent ServiceAccount token; close it. */
  public static KubernetesClient agentClient() {
    plane();
    return plane.clientAs(rbac.namespace(), rbac.agentAccount());
  }

  /** The chart release's namespace, where agents keep their node Leases (as the chart sets). */
  public static String leaseNamespace() {
    plane();
    return rbac.namespace();
  }

  /**
   * Deletes a test's namespace, first taking the agent's finalizer off its MicroVMs: with the agent
   * gone, nothing else would, and the namespace would never go.
   */
  public static void deleteNamespace(String namespace) {
    KubernetesClient admin = client();
    for (MicroVM vm : admin.resources(MicroVM.class).inNamespace(namespace).list().getItems()) {
      if (vm.getMetadata().getFinalizers() != null && !vm.getMetadata().getFinalizers().isEmpty()) {
        admin
            .resource(vm)
            .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"finalizers\":null}}");
      }
    }
    admin.namespaces().withName(namespace).delete();
  }

  /** A new namespace for one test's MicroVMs. */
  public static String createNamespace(String prefix) {
    return plane().createNamespace(prefix);
  }
}
