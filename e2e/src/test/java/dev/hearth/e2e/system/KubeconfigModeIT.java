package dev.hearth.e2e.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.agent.testing.SharedApiServer;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.vmm.testing.RequiresRoot;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The suite's real-cluster mode, which runs when {@code KUBECONFIG} is set: here the "cluster" is a
 * mock API server of its own, reached only through a kubeconfig file, so the path a user's cluster
 * takes (fabric8 reading the file; CRDs, namespaces and Nodes made by the fixture rather than
 * assumed; no stand-in admission; clean-up of what the scenario made) runs in every build. What it
 * cannot show is a real API server's own behaviour; that needs a cluster (e2e/kind).
 */
@RequiresRoot
class KubeconfigModeIT {
  @TempDir Path dir;

  @Test
  void theSuiteRunsAgainstTheClusterItsKubeconfigNames() throws Exception {
    FakeNodes.requireNetworkTools();
    KubernetesMockServer cluster = SharedApiServer.startCrudServer();
    Path kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(kubeconfig, kubeconfig(cluster.url("/").replaceAll("/$", "")));
    String before = System.getProperty("kubeconfig");
    System.setProperty("kubeconfig", kubeconfig.toString());
    try (KubernetesClient direct = cluster.createClient();
        ImageServer images = new ImageServer()) {
      ImageSource kernel = images.publish(Files.writeString(dir.resolve("vmlinux"), "a kernel"));
      try (HearthSystem system = HearthSystem.start()) {
        assertThat(system.api().isMock()).isFalse();
        assertThat(system.client().getConfiguration().getMasterUrl())
            .startsWith(cluster.url("/").replaceAll("/$", ""));
        AgentNode node =
            FakeNodes.start(system, "kc-node", dir.resolve("node"), "10.98.0.0/24", Map.of());
        String ns = system.namespace("kc-apply");
        system.apply(Manifests.vm(ns, "web", kernel, Manifests::withEth0));

        MicroVM vm = system.awaitPhase(ns, "web", MicroVMPhase.Running);
        assertThat(vm.getStatus().getNodeName()).isEqualTo(node.name());
        assertThat(vm.getStatus().getNetwork().getFirst().getIp()).startsWith("10.98.0.");
        // Everything went to the cluster the kubeconfig names, seen here without the fixture.
        assertThat(direct.apiextensions().v1().customResourceDefinitions().list().getItems())
            .extracting(crd -> crd.getMetadata().getName())
            .contains("microvms.hearth.dev", "microvmnodes.hearth.dev", "microvmsets.hearth.dev");
        assertThat(direct.namespaces().withName(HearthApi.DEFAULT_LEASE_NAMESPACE).get())
            .isNotNull();
        assertThat(direct.resources(MicroVM.class).inNamespace(ns).withName("web").get())
            .extracting(v -> v.getStatus().getPhase())
            .isEqualTo(MicroVMPhase.Running);

        system.client().resource(vm).delete();
        system.awaitGone(ns, "web");
        assertThat(node.taps()).isEmpty();
      }
      // On a cluster the fixture removes what it made: the scenario's namespace, the node's
      // MicroVMNode and the Node it registered as the kubelet would.
      assertThat(direct.namespaces().withName("kc-apply").get()).isNull();
      assertThat(direct.resources(MicroVMNode.class).withName("kc-node").get()).isNull();
      assertThat(direct.nodes().withName("kc-node").get()).isNull();
    } finally {
      if (before == null) {
        System.clearProperty("kubeconfig");
      } else {
        System.setProperty("kubeconfig", before);
      }
      cluster.destroy();
    }
  }

  private static String kubeconfig(String server) {
    return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: stand-in
          cluster:
            server: %s
        users:
        - name: e2e
          user:
            token: not-checked-by-the-mock
        contexts:
        - name: e2e@stand-in
          context:
            cluster: stand-in
            user: e2e
            namespace: default
        current-context: e2e@stand-in
        """
        .formatted(server);
  }
}
