package dev.hearth.operator;

import static dev.hearth.operator.Fixtures.NS;
import static dev.hearth.operator.Fixtures.node;
import static dev.hearth.operator.Fixtures.vm;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.RestartPolicy;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class NodeLossTest extends OperatorTestBase {

  private String readyOf(String node) {
    MicroVMNode n = client.resources(MicroVMNode.class).withName(node).get();
    return n.getStatus() == null
        ? null
        : n.getStatus().condition(HearthApi.Conditions.READY).map(c -> c.getStatus()).orElse(null);
  }

  /** Events about a cluster-scoped MicroVMNode land in the default namespace. */
  private List<Event> nodeEvents(String node, String reason) {
    return client.v1().events().inNamespace("default").list().getItems().stream()
        .filter(e -> node.equals(e.getInvolvedObject().getName()))
        .filter(e -> "MicroVMNode".equals(e.getInvolvedObject().getKind()))
        .filter(e -> reason.equals(e.getReason()))
        .toList();
  }

  @Test
  void lostNodeGoesNotReadyThenItsVmsMoveFailOrLoseTheirFinalizer() {
    node(client, clock, "doomed", 8, 8192);
    startOperator(config());
    await().atMost(TIMEOUT).until(() -> "True".equals(readyOf("doomed")));

    MicroVM always = vm("always", 1, 128);
    client.resource(always).create();
    MicroVM never = vm("never", 1, 128);
    never.getSpec().setRestartPolicy(RestartPolicy.Never);
    client.resource(never).create();
    client.resource(vm("deleted", 1, 128)).create();
    for (String name : new String[] {"always", "never", "deleted"}) {
      awaitVm(name, vm -> vm.getStatus() != null && "doomed".equals(vm.getStatus().getNodeName()));
    }
    client.resources(MicroVM.class).inNamespace(NS).withName("deleted").delete();
    // The agent renews nothing from here on.
    clock.advance(Duration.ofSeconds(41));
    await().atMost(TIMEOUT).until(() -> "False".equals(readyOf("doomed")));
    await().atMost(TIMEOUT).until(() -> nodeEvents("doomed", "NodeNotReady").size() == 1);
    assertThat(nodeEvents("doomed", "NodeNotReady").get(0).getType()).isEqualTo("Warning");
    MicroVM unknown = awaitVm("always", vm -> vm.getStatus().getPhase() == MicroVMPhase.Unknown);
    assertThat(unknown.getStatus().getNodeName())
        .as("still bound during the grace period")
        .isEqualTo("doomed");
    assertThat(unknown.getStatus().condition(HearthApi.Conditions.READY).orElseThrow().getReason())
        .isEqualTo(HearthApi.Reasons.NODE_LOST);
    assertThat(get("deleted")).as("finalizer still held within the grace period").isNotNull();

    clock.advance(Duration.ofSeconds(61));
    // A healthy node (fresh Lease at the new time) arrives to take the VMs.
    node(client, clock, "healthy", 8, 8192);
    MicroVM moved =
        awaitVm(
            "always",
            vm ->
                "healthy".equals(vm.getStatus().getNodeName())
                    && vm.getMetadata().getLabels() != null
                    && "healthy".equals(vm.getMetadata().getLabels().get(HearthApi.NODE_LABEL)));
    assertThat(moved.getMetadata().getLabels()).containsEntry(HearthApi.NODE_LABEL, "healthy");
    assertThat(moved.getMetadata().getFinalizers()).containsExactly(HearthApi.AGENT_FINALIZER);
    assertThat(moved.getStatus().getExit().getReason()).isEqualTo(HearthApi.Reasons.NODE_LOST);

    MicroVM failed =
        awaitVm(
            "never",
            vm ->
                vm.getStatus().getPhase() == MicroVMPhase.Failed
                    && !vm.getMetadata().getFinalizers().contains(HearthApi.AGENT_FINALIZER));
    assertThat(failed.getStatus().getNodeName()).isEqualTo("doomed");
    assertThat(failed.getMetadata().getFinalizers()).doesNotContain(HearthApi.AGENT_FINALIZER);

    await().atMost(TIMEOUT).until(() -> get("deleted") == null);
  }

  @Test
  void renewedLeaseKeepsTheNodeReadyAsTimePasses() {
    node(client, clock, "steady", 4, 4096);
    startOperator(config());
    client.resource(vm("stays", 1, 128)).create();
    awaitVm("stays", vm -> vm.getStatus() != null && "steady".equals(vm.getStatus().getNodeName()));
    // Small steps, each well within the 40 s Lease, as a live agent renews.
    for (int i = 0; i < 15; i++) {
      clock.advance(Duration.ofSeconds(5));
      Fixtures.renewLease(client, clock, "steady");
      await().pollDelay(Duration.ofMillis(50)).until(() -> true);
    }
    // Several recheck intervals pass with the clock well beyond the first Lease's expiry.
    await()
        .during(Duration.ofSeconds(1))
        .atMost(TIMEOUT)
        .until(() -> "True".equals(readyOf("steady")));
    assertThat(get("stays").getStatus().getPhase()).isEqualTo(MicroVMPhase.Scheduled);
  }
}
