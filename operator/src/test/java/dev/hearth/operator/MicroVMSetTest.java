package dev.hearth.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSet;
import dev.hearth.api.v1alpha1.MicroVMSetSpec;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import dev.hearth.api.v1alpha1.MicroVMTemplate;
import dev.hearth.api.v1alpha1.RunState;
import dev.hearth.api.v1alpha1.TemplateMetadata;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MicroVMSetTest extends OperatorTestBase {

  private MicroVMSet set(String name, int replicas, Map<String, String> templateLabels) {
    MicroVMSet set = new MicroVMSet();
    set.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
    MicroVMSetSpec spec = new MicroVMSetSpec();
    spec.setReplicas(replicas);
    spec.setSelector(new LabelSelectorBuilder().withMatchLabels(Map.of("app", name)).build());
    MicroVMTemplate template = new MicroVMTemplate();
    TemplateMetadata meta = new TemplateMetadata();
    meta.setLabels(templateLabels);
    template.setMetadata(meta);
    MicroVMSpec vmSpec = new MicroVMSpec();
    vmSpec.setKernel(new KernelSpec(ImageSource.ofPath("k")));
    template.setSpec(vmSpec);
    spec.setTemplate(template);
    set.setSpec(spec);
    return set;
  }

  private List<MicroVM> members(String set) {
    return client
        .resources(MicroVM.class)
        .inNamespace(ns)
        .withLabel(HearthApi.SET_LABEL, set)
        .list()
        .getItems()
        .stream()
        .filter(vm -> vm.getMetadata().getDeletionTimestamp() == null)
        .toList();
  }

  /** A merge patch of spec.replicas, without a resourceVersion precondition. */
  private void scale(String name, int replicas) {
    client
        .resources(MicroVMSet.class)
        .inNamespace(ns)
        .withName(name)
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"replicas\":" + replicas + "}}");
  }

  private MicroVMSet getSet(String name) {
    return client.resources(MicroVMSet.class).inNamespace(ns).withName(name).get();
  }

  @Test
  void scalesUpAndDownWithOwnerReferencesAndReportsForTheScaleSubresource() {
    node("n1", 32, 32768);
    startOperator(config());
    MicroVMSet created =
        client.resource(set("web", 3, Map.of("app", "web", "tier", "front"))).create();

    await().atMost(TIMEOUT).until(() -> members("web").size() == 3);
    for (MicroVM vm : members("web")) {
      assertThat(vm.getMetadata().getOwnerReferences())
          .singleElement()
          .satisfies(
              o -> {
                assertThat(o.getUid()).isEqualTo(created.getMetadata().getUid());
                assertThat(o.getKind()).isEqualTo("MicroVMSet");
                assertThat(o.getController()).isTrue();
              });
      assertThat(vm.getMetadata().getLabels()).containsEntry("tier", "front");
    }
    assertThat(members("web"))
        .extracting(vm -> vm.getMetadata().getName())
        .containsExactlyInAnyOrder("web-0", "web-1", "web-2");
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                getSet("web").getStatus() != null
                    && Integer.valueOf(3).equals(getSet("web").getStatus().getReplicas()));
    assertThat(getSet("web").getStatus().getLabelSelector()).isEqualTo("app=web");

    // Up through the /scale subresource, as kubectl scale and an HPA do: the API server maps it to
    // spec.replicas by the CRD's specReplicasPath.
    client.resources(MicroVMSet.class).inNamespace(ns).withName("web").scale(5);
    await().atMost(TIMEOUT).until(() -> members("web").size() == 5);
    // Down by editing spec.replicas, as kubectl edit or a GitOps tool does.
    scale("web", 1);
    await().atMost(TIMEOUT).until(() -> members("web").size() == 1);
    assertThat(members("web"))
        .extracting(vm -> vm.getMetadata().getName())
        .containsExactly("web-0");
    await()
        .atMost(TIMEOUT)
        .until(() -> Integer.valueOf(1).equals(getSet("web").getStatus().getReplicas()));

    // Deleting the set: the API server's garbage collector deletes its MicroVMs, by their owner
    // references (each then waits for its agent's finalizer, which no agent removes here).
    client.resource(getSet("web")).delete();
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                client
                    .resources(MicroVM.class)
                    .inNamespace(ns)
                    .withLabel(HearthApi.SET_LABEL, "web")
                    .list()
                    .getItems()
                    .stream()
                    .allMatch(vm -> vm.getMetadata().getDeletionTimestamp() != null));
  }

  @Test
  void aMemberSuspendedThroughItsOwnSpecIsNotReady() {
    node("n1", 32, 32768);
    startOperator(config());
    client.resource(set("pool", 2, Map.of("app", "pool"))).create();
    await().atMost(TIMEOUT).until(() -> members("pool").size() == 2);
    // The agent reports both Running, one of them suspended (its own spec.runState asked).
    for (MicroVM vm : members("pool")) {
      MicroVMStatus st = new MicroVMStatus();
      st.setPhase(MicroVMPhase.Running);
      st.setRunState(
          vm.getMetadata().getName().endsWith("-0") ? RunState.Suspended : RunState.Running);
      new StatusApply(client, StatusApply.AGENT).apply(vm, st, List.of("phase", "runState"), false);
    }
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                getSet("pool").getStatus() != null
                    && Integer.valueOf(1).equals(getSet("pool").getStatus().getReadyReplicas()));
  }

  @Test
  void aWarmPoolKeepsSuspendedMembersAndScalingUpResumesThemFirst() {
    node("n1", 32, 32768);
    startOperator(config());
    MicroVMSet pooled = set("warm", 1, Map.of("app", "warm"));
    pooled.getSpec().setSuspendedReplicas(2);
    client.resource(pooled).create();
    await().atMost(TIMEOUT).until(() -> members("warm").size() == 3);
    List<String> pool =
        members("warm").stream()
            .filter(vm -> vm.getMetadata().getLabels().containsKey(HearthApi.WARM_POOL_LABEL))
            .peek(vm -> assertThat(vm.getSpec().getRunState()).isEqualTo(RunState.Suspended))
            .map(vm -> vm.getMetadata().getName())
            .sorted()
            .toList();
    assertThat(pool).hasSize(2);
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                getSet("warm").getStatus() != null
                    && Integer.valueOf(2)
                        .equals(getSet("warm").getStatus().getSuspendedReplicas()));

    // Up by one: the first pool member is resumed (not a new boot), and the pool is refilled.
    scale("warm", 2);
    await().atMost(TIMEOUT).until(() -> members("warm").size() == 4);
    MicroVM resumed = client.resources(MicroVM.class).inNamespace(ns).withName(pool.get(0)).get();
    assertThat(resumed.getSpec().getRunState()).isEqualTo(RunState.Running);
    assertThat(resumed.getMetadata().getLabels()).doesNotContainKey(HearthApi.WARM_POOL_LABEL);
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                members("warm").stream()
                        .filter(
                            vm ->
                                vm.getMetadata().getLabels().containsKey(HearthApi.WARM_POOL_LABEL))
                        .count()
                    == 2);
    // A member suspended by hand is neither resumed nor taken for a pool member.
    client
        .resources(MicroVM.class)
        .inNamespace(ns)
        .withName(pool.get(0))
        .edit(
            v -> {
              v.getSpec().setRunState(RunState.Suspended);
              return v;
            });
    scale("warm", 2); // a no-op change; the set reconciles on the member's change anyway
    org.awaitility.Awaitility.await()
        .during(java.time.Duration.ofSeconds(2))
        .atMost(TIMEOUT)
        .until(() -> members("warm").size() == 4);
    assertThat(
            client
                .resources(MicroVM.class)
                .inNamespace(ns)
                .withName(pool.get(0))
                .get()
                .getSpec()
                .getRunState())
        .isEqualTo(RunState.Suspended);
  }

  @Test
  void aSelectorThatMissesTheTemplateIsRefusedByTheServer() {
    // The CRD's CEL rule refuses it, so the operator never sees one here. (Its own
    // SelectorMismatch condition and Event, for a cluster whose CRD predates the rule, cannot be
    // shown on a server that has the rule.)
    startOperator(config());
    assertThatThrownBy(() -> client.resource(set("bad", 2, Map.of("app", "other"))).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("spec.selector");
    assertThat(getSet("bad")).isNull();
    assertThat(members("bad")).isEmpty();
  }
}
