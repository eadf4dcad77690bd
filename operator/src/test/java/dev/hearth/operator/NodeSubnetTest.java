package dev.hearth.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import dev.hearth.api.v1alpha1.NetworkInterfaceStatus;
import dev.hearth.operator.network.ClusterNetwork;
import dev.hearth.operator.network.Ipv4Block;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/** Node subnets from the cluster range, on the real API server with the chart's RBAC. */
class NodeSubnetTest extends OperatorTestBase {

  /** A range of this test's own, so that other tests' nodes never hold a block of it. */
  private static String range(int prefix) {
    return "10." + ThreadLocalRandom.current().nextInt(100, 250) + ".0.0/" + prefix;
  }

  private MicroVMNode mvmNode(String name) {
    return client.resources(MicroVMNode.class).withName(nodeName(name)).get();
  }

  private String subnetOf(String name) {
    MicroVMNode n = mvmNode(name);
    return n == null || n.getSpec() == null ? null : n.getSpec().getSubnet();
  }

  private Condition allocated(String name) {
    MicroVMNode n = mvmNode(name);
    return n == null || n.getStatus() == null
        ? null
        : n.getStatus().condition(HearthApi.Conditions.SUBNET_ALLOCATED).orElse(null);
  }

  @Test
  void everyNodeGetsADistinctSubnetOfTheRangeAndKeepsIt() {
    String range = range(16);
    for (int i = 0; i < 5; i++) {
      node("n" + i, 4, 4096);
    }
    startOperator(config().withNetwork(ClusterNetwork.parse(range, 24)));
    Set<String> subnets = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      String n = "n" + i;
      await().atMost(TIMEOUT).until(() -> subnetOf(n) != null);
      Ipv4Block block = Ipv4Block.parse(subnetOf(n));
      assertThat(block.prefix()).isEqualTo(24);
      assertThat(Ipv4Block.parse(range).overlaps(block)).as("%s in %s", block, range).isTrue();
      subnets.add(block.toString());
      await().atMost(TIMEOUT).until(() -> allocated(n) != null);
      assertThat(allocated(n).getStatus()).isEqualTo("True");
    }
    assertThat(subnets).as("no two nodes share a subnet").hasSize(5);

    // A restarted operator reads the allocations back; nothing moves.
    String before = subnetOf("n3");
    stopOperator();
    startOperator(config().withNetwork(ClusterNetwork.parse(range, 24)));
    node("late", 4, 4096);
    await().atMost(TIMEOUT).until(() -> subnetOf("late") != null);
    assertThat(subnets).doesNotContain(subnetOf("late"));
    assertThat(subnetOf("n3")).isEqualTo(before);

    // The field is the operator's by server-side apply, and cannot change once set.
    assertThat(mvmNode("n3").getMetadata().getManagedFields())
        .anySatisfy(
            f -> {
              assertThat(f.getManager()).isEqualTo(StatusApply.OPERATOR);
              assertThat(f.getSubresource()).isNull();
              assertThat(f.getFieldsV1().getAdditionalProperties().toString()).contains("subnet");
            });
    assertThatThrownBy(
            () ->
                client
                    .resources(MicroVMNode.class)
                    .withName(nodeName("n3"))
                    .patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"spec\":{\"subnet\":\"" + subnetOf("n4") + "\"}}"))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("subnet cannot change once allocated");
  }

  @Test
  void anExhaustedRangeSaysSoAndALeftNodesSubnetWaitsForItsVms() {
    String range = range(23); // two /24s
    ClusterNetwork network = ClusterNetwork.parse(range, 24);
    node("a", 4, 4096);
    node("b", 4, 4096);
    startOperator(config().withNetwork(network));
    await().atMost(TIMEOUT).until(() -> subnetOf("a") != null && subnetOf("b") != null);
    assertThat(subnetOf("a")).isNotEqualTo(subnetOf("b"));

    node("c", 4, 4096);
    await()
        .atMost(TIMEOUT)
        .until(() -> allocated("c") != null && "False".equals(allocated("c").getStatus()));
    assertThat(allocated("c").getReason()).isEqualTo(HearthApi.Reasons.SUBNET_RANGE_EXHAUSTED);
    assertThat(allocated("c").getMessage()).contains("no free /24 subnet", range);
    await()
        .atMost(TIMEOUT)
        .until(() -> !nodeEvents("c", HearthApi.Reasons.SUBNET_RANGE_EXHAUSTED).isEmpty());
    assertThat(subnetOf("c")).isNull();

    // A VM on node a has an address in a's subnet; then node a leaves.
    String subnetA = subnetOf("a");
    MicroVM vm = vm("on-a", 1, 128);
    vm.getSpec().setNodeName(nodeName("a"));
    client.resource(vm).create();
    MicroVM bound =
        awaitVm(
            "on-a",
            v -> v.getStatus() != null && nodeName("a").equals(v.getStatus().getNodeName()));
    Ipv4Block a = Ipv4Block.parse(subnetA);
    MicroVMStatus running = new MicroVMStatus();
    running.setNetwork(
        List.of(
            new NetworkInterfaceStatus(
                "eth0", Ipv4Block.format(a.address() + 2), "02:00:00:00:00:02", "hearth-t0")));
    new StatusApply(client, StatusApply.AGENT).apply(bound, running, List.of("network"), false);
    client.resources(MicroVMNode.class).withName(nodeName("a")).delete();
    await().atMost(TIMEOUT).until(() -> mvmNode("a") == null);

    // Also across a restart: the VM's address holds the subnet, not the operator's memory.
    stopOperator();
    startOperator(config().withNetwork(network));
    await().during(Duration.ofSeconds(3)).atMost(TIMEOUT).until(() -> subnetOf("c") == null);

    // Once the VM is gone too, the subnet is free again. Deleted first, then its finalizer
    // removed, as an agent does: the other way round, the operator may put the finalizer of a
    // bound VM back in between (it completes binds whose metadata patch was lost), and the VM
    // would wait for an agent that left with node a.
    client.resources(MicroVM.class).inNamespace(ns).withName("on-a").delete();
    try {
      client
          .resources(MicroVM.class)
          .inNamespace(ns)
          .withName("on-a")
          .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"finalizers\":null}}");
    } catch (KubernetesClientException e) {
      assertThat(e.getCode()).as("%s", e).isEqualTo(404); // gone already: it had no finalizer
    }
    await().atMost(TIMEOUT).until(() -> subnetA.equals(subnetOf("c")));
    await()
        .atMost(TIMEOUT)
        .until(() -> allocated("c") != null && "True".equals(allocated("c").getStatus()));
  }

  private List<io.fabric8.kubernetes.api.model.Event> nodeEvents(String node, String reason) {
    return client.v1().events().inNamespace("default").list().getItems().stream()
        .filter(e -> nodeName(node).equals(e.getInvolvedObject().getName()))
        .filter(e -> reason.equals(e.getReason()))
        .toList();
  }
}
