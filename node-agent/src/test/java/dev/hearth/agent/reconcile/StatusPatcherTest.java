package dev.hearth.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.agent.testing.SharedApiServer;
import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.Conditions;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The agent's one writer to a MicroVM, against the real API server with the chart's agent token: it
 * applies only the agent's status fields, keeps the operator's, and takes off only its own
 * finalizer.
 */
class StatusPatcherTest {
  private String ns;
  private KubernetesClient admin;
  private KubernetesClient agentClient;
  private StatusPatcher patcher;

  @BeforeEach
  void setUp() {
    admin = SharedApiServer.client();
    ns = SharedApiServer.createNamespace("patcher");
    agentClient = SharedApiServer.agentClient();
    patcher = new StatusPatcher(agentClient);
  }

  @AfterEach
  void tearDown() {
    agentClient.close();
    SharedApiServer.deleteNamespace(ns);
  }

  private MicroVM create(String name, String... finalizers) {
    MicroVMSpec spec = new MicroVMSpec();
    spec.setKernel(new KernelSpec(ImageSource.ofPath("vmlinux")));
    MicroVM vm = new MicroVM();
    vm.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(ns)
            .withName(name)
            .withLabels(Map.of(HearthApi.NODE_LABEL, "node-" + ns))
            .withFinalizers(finalizers)
            .build());
    vm.setSpec(spec);
    return admin.resource(vm).create();
  }

  private MicroVM get(String name) {
    return admin.resources(MicroVM.class).inNamespace(ns).withName(name).get();
  }

  private static Condition condition(String type, String status, String reason) {
    return Conditions.of(type, status, reason, "", 1L, Instant.now());
  }

  @Test
  void appliesTheAgentsFieldsAndKeepsTheOperators() {
    MicroVM vm = create("vm");
    MicroVMStatus scheduled = new MicroVMStatus();
    scheduled.setPhase(MicroVMPhase.Scheduled);
    scheduled.setNodeName("node-" + ns);
    scheduled.putCondition(
        condition(HearthApi.Conditions.SCHEDULED, HearthApi.Conditions.TRUE, "Bound"));
    new StatusApply(admin, StatusApply.OPERATOR)
        .apply(
            vm, scheduled, List.of("phase", "nodeName", "conditions", "observedGeneration"), false);

    MicroVM written =
        patcher
            .patch(
                ns,
                "vm",
                s -> {
                  s.setPhase(MicroVMPhase.Running);
                  s.setRestartCount(2);
                  s.setNodeName("somewhere-else"); // not the agent's field: never sent
                  s.putCondition(
                      condition(HearthApi.Conditions.READY, HearthApi.Conditions.TRUE, "Running"));
                })
            .orElseThrow();

    assertThat(written.getStatus().getPhase()).isEqualTo(MicroVMPhase.Running);
    MicroVMStatus now = get("vm").getStatus();
    assertThat(now.getPhase()).isEqualTo(MicroVMPhase.Running);
    assertThat(now.getRestartCount()).isEqualTo(2);
    assertThat(now.getNodeName()).isEqualTo("node-" + ns);
    assertThat(now.getConditions())
        .extracting(Condition::getType)
        .containsExactly(HearthApi.Conditions.SCHEDULED, HearthApi.Conditions.READY);
    assertThat(get("vm").getSpec().getKernel().getSource().getPath()).isEqualTo("vmlinux");
  }

  @Test
  void aFieldTheAgentLeavesOutIsRemoved() {
    create("vm");
    patcher.patch(ns, "vm", s -> s.setBootTimeMillis(42L));
    assertThat(get("vm").getStatus().getBootTimeMillis()).isEqualTo(42L);
    patcher.patch(ns, "vm", s -> s.setBootTimeMillis(null));
    assertThat(get("vm").getStatus().getBootTimeMillis()).isNull();
  }

  @Test
  void aMissingVmIsNoError() {
    assertThat(patcher.patch(ns, "absent", s -> s.setPhase(MicroVMPhase.Failed))).isEmpty();
    patcher.removeFinalizer(ns, "absent");
  }

  @Test
  void removesOnlyTheAgentsFinalizer() {
    create("vm", HearthApi.AGENT_FINALIZER, "example.com/other");
    patcher.removeFinalizer(ns, "vm");
    assertThat(get("vm").getMetadata().getFinalizers()).containsExactly("example.com/other");
    // Again: nothing left of the agent's, nothing changes.
    patcher.removeFinalizer(ns, "vm");
    assertThat(get("vm").getMetadata().getFinalizers()).containsExactly("example.com/other");
    admin
        .resources(MicroVM.class)
        .inNamespace(ns)
        .withName("vm")
        .edit(
            v -> {
              v.getMetadata().setFinalizers(List.of());
              return v;
            });
  }
}
