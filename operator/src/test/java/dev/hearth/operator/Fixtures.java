package dev.hearth.operator;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.MicroVMNodeSpec;
import dev.hearth.api.v1alpha1.MicroVMNodeStatus;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.NodeResources;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

/** Builds the objects the operator tests put on the mock API server. */
public final class Fixtures {
  private Fixtures() {}

  public static final String NS = "vms";

  /** Installs the generated CRDs from the hearth-crds jar. */
  public static void installCrds(KubernetesClient client) {
    for (String plural : List.of("microvms", "microvmsets", "microvmnodes")) {
      String path = "META-INF/fabric8/" + plural + ".hearth.dev-v1.yml";
      try (InputStream in = Fixtures.class.getClassLoader().getResourceAsStream(path)) {
        if (in == null) {
          throw new IllegalStateException("no " + path + " on the classpath");
        }
        var crd = client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
        client
            .apiextensions()
            .v1()
            .customResourceDefinitions()
            .resource(crd)
            .createOr(r -> r.update());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** A MicroVMNode with allocatable resources and a fresh Lease. */
  public static MicroVMNode node(
      KubernetesClient client, Clock clock, String name, int vcpus, long memMiB) {
    return node(client, clock, name, vcpus, memMiB, Map.of(), List.of());
  }

  public static MicroVMNode node(
      KubernetesClient client,
      Clock clock,
      String name,
      int vcpus,
      long memMiB,
      Map<String, String> labels,
      List<Taint> taints) {
    MicroVMNode n = new MicroVMNode();
    n.setMetadata(new ObjectMetaBuilder().withName(name).withLabels(labels).build());
    MicroVMNodeSpec spec = new MicroVMNodeSpec();
    spec.setTaints(taints);
    n.setSpec(spec);
    MicroVMNode created = client.resource(n).create();
    MicroVMNodeStatus st = new MicroVMNodeStatus();
    st.setCapacity(new NodeResources(vcpus, memMiB));
    st.setAllocatable(new NodeResources(vcpus, memMiB));
    st.setAgentVersion("test");
    created.setStatus(st);
    renewLease(client, clock, name);
    return client.resource(created).updateStatus();
  }

  /** What an agent does every few seconds. */
  public static Lease renewLease(KubernetesClient client, Clock clock, String node) {
    return renewLease(client, clock, node, 40);
  }

  /** A renewal that holds the node for {@code seconds}. */
  public static Lease renewLease(KubernetesClient client, Clock clock, String node, int seconds) {
    Lease lease =
        new LeaseBuilder()
            .withNewMetadata()
            .withName(HearthApi.leaseName(node))
            .withNamespace(HearthApi.DEFAULT_LEASE_NAMESPACE)
            .endMetadata()
            .withNewSpec()
            .withHolderIdentity(node)
            .withLeaseDurationSeconds(seconds)
            .withRenewTime(clock.instant().atZone(ZoneOffset.UTC))
            .endSpec()
            .build();
    return client.resource(lease).createOr(r -> r.update());
  }

  public static MicroVM vm(String name, int vcpus, int memMiB) {
    MicroVM vm = new MicroVM();
    vm.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NS).build());
    MicroVMSpec spec = new MicroVMSpec();
    spec.setVcpus(vcpus);
    spec.setMemoryMiB(memMiB);
    spec.setKernel(new KernelSpec(ImageSource.ofPath("linux/vmlinux")));
    vm.setSpec(spec);
    return vm;
  }
}
