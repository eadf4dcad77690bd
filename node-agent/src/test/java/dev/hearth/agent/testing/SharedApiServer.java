package dev.hearth.agent.testing;

import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.testkit.ChartRbac;
import dev.hearth.testkit.ControlPlane;
import dev.hearth.vmm.harness.NestedJob;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.nio.file.Path;

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

  /**
   * {@code job} made able to use the API server from inside the nested-KVM machine (L1), where the
   * suite it runs calls {@link ControlPlane#shared()} too: L1 gets a network on which this
   * machine's loopback is {@value ControlPlane#QEMU_USER_NET_HOST}, a kubeconfig for that address
   * (or the one KUBECONFIG names), the committed CRDs, and the chart and helm (already installed
   * here) so that {@link ChartRbac} works there unchanged.
   */
  public static NestedJob reachableFromL1(NestedJob job) {
    ControlPlane plane = ControlPlane.shared();
    Path kubeconfig =
        plane.isOwn()
            ? plane.kubeconfigFileFor(ControlPlane.QEMU_USER_NET_HOST)
            : plane.kubeconfigFile();
    Path repository = ControlPlane.repository();
    Path tools = ChartRbac.toolsFolder();
    // Forwarded into L1 as every hearth.* property is: where the repository's scripts are.
    System.setProperty("hearth.testCluster", repository.resolve("test-cluster").toString());
    return job.withNet()
        .withAdd(kubeconfig)
        .withEnv("KUBECONFIG", kubeconfig.toString())
        .withAdd(repository.resolve("test-cluster"))
        .withAdd(repository.resolve("crds").resolve("yaml"))
        .withAdd(repository.resolve("helm"))
        .withAdd(tools)
        .withEnv("HEARTH_TOOLS_DIR", tools.getParent().toString());
  }
}
