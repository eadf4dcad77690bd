package dev.hearth.operator;

import dev.hearth.api.client.StatusApply;
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

/**
 * Builds the objects the operator tests put on an API server: what a user (MicroVMs) and an agent
 * (its MicroVMNode and Lease) would write.
 */
public final class Fixtures {
  private Fixtures() {}

  /** The namespace of the mock-server benchmark, which has no namespaces to create. */
  public static final String NS = "vms";

  private static final List<String> PLURALS = List.of("microvms", "microvmsets", "microvmnodes");

  /** Creates or updates the generated CRDs from the hearth-crds jar (for BindingBench's mock). */
  public static void installCrds(KubernetesClient client) {
    for (String plural : PLURALS) {
      try (InputStream in = crd(plural)) {
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

  private static InputStream crd(String plural) {
    String path = "META-INF/fabric8/" + plural + ".hearth.dev-v1.yml";
    InputStream in = Fixtures.class.getClassLoader().getResourceAsStream(path);
    if (in == null) {
      throw new IllegalStateException("no " + path + " on the classpath");
    }
    return in;
  }

  /** A MicroVMNode with allocatable resources and a fresh Lease in {@code leaseNamespace}. */
  public static MicroVMNode node(
      KubernetesClient client,
      Clock clock,
      String leaseNamespace,
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
    renewLease(client, clock, leaseNamespace, name, HearthApi.DEFAULT_LEASE_DURATION_SECONDS);
    // As the agent writes it: its own fields, whatever the operator wrote meanwhile.
    return new StatusApply(client, StatusApply.AGENT)
        .apply(created, st, List.of("capacity", "allocatable", "agentVersion"), false);
  }

  /** What an agent does every few seconds: a renewal that holds the node for {@code seconds}. */
  public static Lease renewLease(
      KubernetesClient client, Clock clock, String namespace, String node, int seconds) {
    Lease lease =
        new LeaseBuilder()
            .withNewMetadata()
            .withName(HearthApi.leaseName(node))
            .withNamespace(namespace)
            .endMetadata()
            .withNewSpec()
            .withHolderIdentity(node)
            .withLeaseDurationSeconds(seconds)
            .withRenewTime(clock.instant().atZone(ZoneOffset.UTC))
            .endSpec()
            .build();
    return client.resource(lease).createOr(r -> r.update());
  }

  /** A MicroVM of {@code vcpus} and {@code memMiB} in {@code namespace}. */
  public static MicroVM vm(String namespace, String name, int vcpus, int memMiB) {
    MicroVM vm = new MicroVM();
    vm.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
    MicroVMSpec spec = new MicroVMSpec();
    spec.setVcpus(vcpus);
    spec.setMemoryMiB(memMiB);
    spec.setKernel(new KernelSpec(ImageSource.ofPath("linux/vmlinux")));
    vm.setSpec(spec);
    return vm;
  }
}
