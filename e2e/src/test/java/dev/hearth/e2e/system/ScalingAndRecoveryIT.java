package dev.hearth.e2e.system;

import static dev.hearth.e2e.system.HearthSystem.phaseOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSet;
import dev.hearth.api.v1alpha1.MicroVMSetSpec;
import dev.hearth.api.v1alpha1.MicroVMTemplate;
import dev.hearth.api.v1alpha1.TemplateMetadata;
import dev.hearth.vmm.testing.RequiresRoot;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MicroVMSet scaling over two nodes, and an agent killed while its VMs run, then recovered by its
 * next instance; operator and agents with their real networking, VMs from a fake runtime (the real
 * VMM does both in {@link RealVmmKvmIT}).
 */
@RequiresRoot
class ScalingAndRecoveryIT {
  @TempDir static Path dir;
  private static TwoFakeNodes cluster;
  private static HearthSystem system;
  private static AgentNode nodeA;
  private static AgentNode nodeB;
  private static ImageSource kernel;

  @BeforeAll
  static void start() throws Exception {
    cluster = TwoFakeNodes.start(dir, "sr", "10.93.0.0/24", "10.94.0.0/24");
    system = cluster.system;
    nodeA = cluster.nodeA;
    nodeB = cluster.nodeB;
    kernel = cluster.kernel;
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aMicroVmSetScalesFromZeroToFiveToTwo() {
    String ns = system.namespace("sr-set");
    MicroVMSet set = new MicroVMSet();
    set.setMetadata(new ObjectMetaBuilder().withNamespace(ns).withName("web").build());
    MicroVMSetSpec spec = new MicroVMSetSpec();
    spec.setReplicas(0);
    spec.setSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("app", "web")).build());
    MicroVMTemplate template = new MicroVMTemplate();
    TemplateMetadata meta = new TemplateMetadata();
    meta.setLabels(Map.of("app", "web"));
    template.setMetadata(meta);
    template.setSpec(Manifests.vm(ns, "unused", kernel, Manifests::withEth0).getSpec());
    spec.setTemplate(template);
    set.setSpec(spec);
    system.apply(set);

    await()
        .atMost(HearthSystem.PATIENCE)
        .until(() -> status(ns) != null && status(ns).getReplicas() != null);
    assertThat(members(ns)).isEmpty();

    scale(ns, 5);
    await().atMost(HearthSystem.PATIENCE).until(() -> running(ns).size() == 5);
    assertThat(members(ns)).hasSize(5);
    Set<String> nodes = new TreeSet<>();
    running(ns).forEach(vm -> nodes.add(vm.getStatus().getNodeName()));
    assertThat(nodes)
        .as("spread over both nodes")
        .containsExactlyInAnyOrder(nodeA.name(), nodeB.name());
    await()
        .atMost(HearthSystem.PATIENCE)
        .until(() -> status(ns).getReadyReplicas() != null && status(ns).getReadyReplicas() == 5);

    Set<String> fiveOwners = new TreeSet<>();
    Set<String> fiveTaps = new TreeSet<>();
    for (MicroVM vm : running(ns)) {
      fiveOwners.add(vm.getMetadata().getUid() + "/eth0");
      fiveTaps.add(vm.getStatus().getNetwork().getFirst().getTap());
    }

    scale(ns, 2);
    await().atMost(HearthSystem.PATIENCE).until(() -> members(ns).size() == 2);
    await().atMost(HearthSystem.PATIENCE).until(() -> running(ns).size() == 2);
    await()
        .atMost(HearthSystem.PATIENCE)
        .until(() -> status(ns).getReplicas() != null && status(ns).getReplicas() == 2);
    Set<String> kept = new TreeSet<>();
    Set<String> keptTaps = new TreeSet<>();
    for (MicroVM vm : members(ns)) {
      kept.add(vm.getMetadata().getUid() + "/eth0");
      keptTaps.add(vm.getStatus().getNetwork().getFirst().getTap());
    }
    assertThat(fiveOwners).containsAll(kept);
    Set<String> allocated = new TreeSet<>(nodeA.addresses().keySet());
    allocated.addAll(nodeB.addresses().keySet());
    Set<String> taps = new TreeSet<>(nodeA.taps());
    taps.addAll(nodeB.taps());
    // The 3 VMs scaled away left no address and no tap behind; the 2 kept hold theirs.
    assertThat(allocated.stream().filter(fiveOwners::contains))
        .containsExactlyInAnyOrderElementsOf(kept);
    assertThat(taps.stream().filter(fiveTaps::contains))
        .containsExactlyInAnyOrderElementsOf(keptTaps);
  }

  @Test
  void aKilledAgentsVmsAreRecoveredByItsNextInstance() throws Exception {
    String ns = system.namespace("sr-kill");
    AgentNode node = nodeB;
    for (String name : List.of("keep", "drop")) {
      system.apply(
          Manifests.vm(
              ns,
              name,
              kernel,
              s -> {
                Manifests.withEth0(s);
                s.setNodeName(node.name());
                return s;
              }));
    }
    MicroVM keep = system.awaitPhase(ns, "keep", MicroVMPhase.Running);
    MicroVM drop = system.awaitPhase(ns, "drop", MicroVMPhase.Running);
    String keepTap = keep.getStatus().getNetwork().getFirst().getTap();
    String dropTap = drop.getStatus().getNetwork().getFirst().getTap();
    assertThat(node.taps()).contains(keepTap, dropTap);

    java.time.Instant killed = java.time.Instant.now();
    node.kill();
    // While the agent is down: one VM is deleted (its finalizer holds it), and a tap that no VM
    // owns is left over, as a crash between two steps can leave one.
    system.client().resource(drop).delete();
    assertThat(system.get(ns, "drop").getMetadata().getDeletionTimestamp()).isNotNull();
    node.leaveOrphanTap("no-such-vm/eth0");
    assertThat(phaseOf(system.get(ns, "keep")))
        .as("nothing was written after the kill")
        .isEqualTo(MicroVMPhase.Running);

    node.restart();

    system.awaitGone(ns, "drop");
    MicroVM back =
        system.await(
            ns,
            "keep",
            vm ->
                phaseOf(vm) == MicroVMPhase.Running
                    // booted afresh, or (the stopping agent suspended it) restored by this one
                    && (!vm.getStatus().getStartTime().equals(keep.getStatus().getStartTime())
                        || HearthSystem.restoredSince(vm, killed)));
    assertThat(back.getStatus().getNetwork().getFirst().getIp())
        .as("the persisted IPAM keeps the address")
        .isEqualTo(keep.getStatus().getNetwork().getFirst().getIp());
    assertThat(back.getStatus().getNetwork().getFirst().getTap()).isEqualTo(keepTap);
    assertThat(back.getStatus().condition("Ready").orElseThrow().getStatus()).isEqualTo("True");
    assertThat(FakeNodes.launches(node, ns, "keep")).isEqualTo(2);
    assertThat(node.taps()).contains(keepTap).doesNotContain(dropTap);
    assertThat(node.taps())
        .noneMatch(t -> t.equals(dev.hearth.agent.net.InterfaceNames.tapName("no-such-vm/eth0")));
    assertThat(node.addresses()).containsKey(keep.getMetadata().getUid() + "/eth0");
    assertThat(node.addresses()).doesNotContainKey(drop.getMetadata().getUid() + "/eth0");
    assertThat(node.daemon().agent().runningVms()).contains(ns + "/keep");
    assertThat(back.getMetadata().getLabels()).containsEntry(HearthApi.NODE_LABEL, node.name());
  }

  private void scale(String ns, int replicas) {
    system.edit(
        MicroVMSet.class,
        ns,
        "web",
        s -> {
          s.getSpec().setReplicas(replicas);
          return s;
        });
  }

  private static dev.hearth.api.v1alpha1.MicroVMSetStatus status(String ns) {
    MicroVMSet s =
        system.client().resources(MicroVMSet.class).inNamespace(ns).withName("web").get();
    return s == null ? null : s.getStatus();
  }

  private static List<MicroVM> members(String ns) {
    return system
        .client()
        .resources(MicroVM.class)
        .inNamespace(ns)
        .withLabel("app", "web")
        .list()
        .getItems();
  }

  private static List<MicroVM> running(String ns) {
    return members(ns).stream()
        .filter(vm -> vm.getMetadata().getDeletionTimestamp() == null)
        .filter(vm -> phaseOf(vm) == MicroVMPhase.Running)
        .toList();
  }
}
