package dev.hearth.e2e.system;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.testkit.ControlPlane;
import dev.hearth.vmm.testing.RequiresRoot;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The suite's KUBECONFIG mode, which {@link ControlPlane#shared()} enters when {@code KUBECONFIG}
 * is set: here the "user's cluster" is the shared control plane reached only through its kubeconfig
 * file, so the path a user's cluster takes (fabric8 reading the file; CRDs, the chart's RBAC,
 * namespaces and Nodes made by the fixture rather than assumed; clean-up of what the scenario made)
 * runs in every build.
 */
@RequiresRoot
class KubeconfigModeIT {
  @TempDir Path dir;

  @Test
  void theSuiteRunsAgainstTheClusterItsKubeconfigNames() throws Exception {
    FakeNodes.requireNetworkTools();
    ControlPlane own = ControlPlane.shared();
    KubernetesClient direct = own.client();
    String ns;
    try (ControlPlane named = ControlPlane.ofKubeconfig(own.kubeconfigFile());
        ImageServer images = new ImageServer()) {
      ImageSource kernel = images.publish(Files.writeString(dir.resolve("vmlinux"), "a kernel"));
      try (HearthSystem system = HearthSystem.start(ApiServer.start(named))) {
        assertThat(named.isOwn()).isFalse();
        assertThat(system.client().getConfiguration().getMasterUrl())
            .isEqualTo(direct.getConfiguration().getMasterUrl());
        AgentNode node =
            FakeNodes.start(system, "kc-node", dir.resolve("node"), "10.98.0.0/24", Map.of());
        ns = system.namespace("kc-apply");
        system.apply(Manifests.vm(ns, "web", kernel, Manifests::withEth0));

        MicroVM vm = system.awaitPhase(ns, "web", MicroVMPhase.Running);
        assertThat(vm.getStatus().getNodeName()).isEqualTo(node.name());
        assertThat(vm.getStatus().getNetwork().getFirst().getIp()).startsWith("10.98.0.");
        // Everything went to the cluster the kubeconfig names, seen here without the fixture.
        assertThat(direct.apiextensions().v1().customResourceDefinitions().list().getItems())
            .extracting(crd -> crd.getMetadata().getName())
            .contains("microvms.hearth.dev", "microvmnodes.hearth.dev", "microvmsets.hearth.dev");
        assertThat(direct.namespaces().withName(system.api().releaseNamespace()).get()).isNotNull();
        assertThat(direct.resources(MicroVM.class).inNamespace(ns).withName("web").get())
            .extracting(v -> v.getStatus().getPhase())
            .isEqualTo(MicroVMPhase.Running);

        system.client().resource(vm).delete();
        system.awaitGone(ns, "web");
        assertThat(node.taps()).isEmpty();
      }
    }
    // On a cluster the fixture removes what it made: the scenario's namespace, the node's
    // MicroVMNode and the Node it registered as the kubelet would.
    assertThat(direct.namespaces().withName(ns).get()).isNull();
    assertThat(direct.resources(MicroVMNode.class).withName("kc-node").get()).isNull();
    assertThat(direct.nodes().withName("kc-node").get()).isNull();
  }
}
