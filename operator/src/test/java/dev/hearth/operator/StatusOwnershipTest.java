package dev.hearth.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import dev.hearth.operator.microvm.MicroVMWriter;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Status on the real API server: a bind lands exactly once when two operator replicas race for the
 * same copy, and server-side apply records who wrote which field.
 */
class StatusOwnershipTest extends OperatorTestBase {

  @Test
  void twoReplicasBindingTheSameCopyRaceAndExactlyOneWins() throws Exception {
    // Two replicas, each with the chart's token and a writer of its own.
    KubernetesClient a = operatorClient();
    KubernetesClient b = operatorClient();
    MicroVMWriter writerA = new MicroVMWriter(a, Clock.systemUTC());
    MicroVMWriter writerB = new MicroVMWriter(b, Clock.systemUTC());
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 10; round++) {
        MicroVM read = client.resource(vm("race-" + round, 1, 128)).create();
        CountDownLatch go = new CountDownLatch(1);
        Future<String> first = pool.submit(bindAfter(go, writerA, read, "node-a"));
        Future<String> second = pool.submit(bindAfter(go, writerB, read, "node-b"));
        go.countDown();
        List<String> outcomes = List.of(first.get(), second.get());
        assertThat(outcomes).as("round %d", round).containsOnlyOnce("409").hasSize(2);
        String winner = outcomes.get(0).equals("409") ? outcomes.get(1) : outcomes.get(0);
        assertThat(get("race-" + round).getStatus().getNodeName()).isEqualTo(winner);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static Callable<String> bindAfter(
      CountDownLatch go, MicroVMWriter writer, MicroVM read, String node) {
    return () -> {
      go.await();
      try {
        return writer.bindStatus(read, node).getStatus().getNodeName();
      } catch (KubernetesClientException e) {
        return String.valueOf(e.getCode());
      }
    };
  }

  @Test
  void managedFieldsNameTheOperatorForTheBindAndTheAgentForItsOwnNeitherForSpec() {
    node("n", 4, 4096);
    startOperator(config());
    client.resource(vm("owned", 1, 128)).create();
    MicroVM bound =
        awaitVm("owned", v -> v.getStatus() != null && v.getStatus().getNodeName() != null);

    // What the agent writes once the VM runs, under its own manager.
    MicroVMStatus running = new MicroVMStatus();
    running.setPhase(MicroVMPhase.Running);
    running.setStartTime("2026-12-05T00:00:00Z");
    running.setConditions(bound.getStatus().getConditions());
    new StatusApply(client, StatusApply.AGENT)
        .apply(bound, running, List.of("phase", "startTime", "conditions"), false);

    MicroVM vm = awaitVm("owned", v -> v.getStatus().getPhase() == MicroVMPhase.Running);
    assertThat(vm.getStatus().getNodeName())
        .as("the agent's apply keeps the bind")
        .isEqualTo(nodeName("n"));
    String operatorStatus = fields(vm, StatusApply.OPERATOR, "Apply", "status");
    String agentStatus = fields(vm, StatusApply.AGENT, "Apply", "status");
    assertThat(operatorStatus).contains("\"f:nodeName\"").doesNotContain("f:startTime");
    assertThat(agentStatus).contains("\"f:startTime\"", "\"f:phase\"").doesNotContain("f:nodeName");
    for (ManagedFieldsEntry e : vm.getMetadata().getManagedFields()) {
      if (e.getManager().startsWith("hearth-")) {
        assertThat(json(e)).as(e.getManager() + " " + e.getOperation()).doesNotContain("f:spec");
      }
    }
  }

  /** The fields {@code manager} owns by {@code operation} on {@code subresource}, as JSON. */
  private String fields(MicroVM vm, String manager, String operation, String subresource) {
    List<String> found = new ArrayList<>();
    for (ManagedFieldsEntry e : vm.getMetadata().getManagedFields()) {
      if (manager.equals(e.getManager())
          && operation.equals(e.getOperation())
          && subresource.equals(e.getSubresource())) {
        found.add(json(e));
      }
    }
    assertThat(found)
        .as("managedFields of %s: %s", manager, vm.getMetadata().getManagedFields())
        .hasSize(1);
    return found.get(0);
  }

  private String json(ManagedFieldsEntry e) {
    return client.getKubernetesSerialization().asJson(e.getFieldsV1());
  }
}
