package dev.hearth.operator.set;

import dev.hearth.api.client.EventRecorder;
import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.Conditions;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSet;
import dev.hearth.api.v1alpha1.MicroVMSetStatus;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.RunState;
import dev.hearth.operator.support.MicroVMs;
import dev.hearth.operator.support.StatusPatch;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.Mappers;
import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Keeps spec.replicas MicroVMs of a set, owned by it; reports replicas for the scale subresource.
 */
@ControllerConfiguration(
    name = "microvmset",
    generationAwareEventProcessing = false,
    fieldManager = StatusApply.OPERATOR)
public final class MicroVMSetReconciler implements Reconciler<MicroVMSet> {
  static final String SELECTOR_MISMATCH = "SelectorMismatch";
  static final String READY = "ReplicasReady";

  private final EventRecorder events;
  private final Clock clock;

  public MicroVMSetReconciler(EventRecorder events, Clock clock) {
    this.events = events;
    this.clock = clock;
  }

  @Override
  public List<EventSource<?, MicroVMSet>> prepareEventSources(
      EventSourceContext<MicroVMSet> context) {
    return List.of(
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(MicroVM.class, MicroVMSet.class)
                .withName("set-members")
                .withLabelSelector(HearthApi.SET_LABEL)
                .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(MicroVMSet.class))
                .build(),
            context));
  }

  @Override
  public UpdateControl<MicroVMSet> reconcile(MicroVMSet set, Context<MicroVMSet> context) {
    String name = set.getMetadata().getName();
    String uid = set.getMetadata().getUid();
    List<MicroVM> owned =
        context
            .getSecondaryResourcesAsStream(MicroVM.class)
            .filter(
                vm ->
                    vm.getMetadata().getOwnerReferences() != null
                        && vm.getMetadata().getOwnerReferences().stream()
                            .anyMatch(o -> uid.equals(o.getUid())))
            .toList();
    String mismatch = selectorMismatch(set);
    int replicas = set.getSpec().replicasOrDefault();
    if (mismatch == null) {
      List<SetScaler.Member> live =
          owned.stream()
              .filter(vm -> !MicroVMs.deleting(vm))
              .map(
                  vm ->
                      new SetScaler.Member(
                          vm.getMetadata().getName(),
                          SetScaler.indexOf(name, vm.getMetadata().getName()),
                          MicroVMs.boundNode(vm) != null,
                          inWarmPool(vm)))
              .toList();
      Set<Integer> taken = new HashSet<>();
      owned.forEach(vm -> taken.add(SetScaler.indexOf(name, vm.getMetadata().getName())));
      SetScaler.Plan plan =
          SetScaler.plan(replicas, set.getSpec().suspendedReplicasOrDefault(), live, taken);
      Map<String, MicroVM> byName =
          owned.stream().collect(Collectors.toMap(vm -> vm.getMetadata().getName(), vm -> vm));
      plan.resume().forEach(n -> resume(set, byName.get(n), context));
      plan.create().forEach(i -> create(set, i, false, context));
      plan.createSuspended().forEach(i -> create(set, i, true, context));
      plan.delete().forEach(n -> delete(set, n, context));
    } else if (!alreadyReported(set, mismatch)) {
      // Once per change, not on every pass: the condition keeps saying it meanwhile.
      events.warning(set, SELECTOR_MISMATCH, mismatch);
    }
    set.setStatus(status(set, owned, mismatch));
    return UpdateControl.patchStatus(set);
  }

  private MicroVMSetStatus status(MicroVMSet set, List<MicroVM> owned, String mismatch) {
    MicroVMSetStatus s = set.getStatus() == null ? new MicroVMSetStatus() : set.getStatus();
    List<MicroVM> live = owned.stream().filter(vm -> !MicroVMs.deleting(vm)).toList();
    s.setReplicas(live.size());
    // A member paused or suspended through its own spec.runState is not ready.
    s.setReadyReplicas(
        (int)
            live.stream()
                .filter(vm -> MicroVMs.phase(vm) == MicroVMPhase.Running)
                .filter(
                    vm ->
                        vm.getStatus().getRunState() == null
                            || vm.getStatus().getRunState() == RunState.Running)
                .count());
    s.setSuspendedReplicas((int) live.stream().filter(MicroVMSetReconciler::inWarmPool).count());
    s.setLabelSelector(selectorString(set.getSpec().getSelector()));
    s.setObservedGeneration(set.getMetadata().getGeneration());
    if (s.getConditions() == null) {
      s.setConditions(new java.util.ArrayList<>());
    }
    Conditions.put(
        s.getConditions(),
        mismatch != null
            ? Conditions.of(
                READY,
                HearthApi.Conditions.FALSE,
                SELECTOR_MISMATCH,
                mismatch,
                set.getMetadata().getGeneration(),
                clock.instant())
            : Conditions.of(
                READY,
                s.getReadyReplicas() >= set.getSpec().replicasOrDefault()
                    ? HearthApi.Conditions.TRUE
                    : HearthApi.Conditions.FALSE,
                "Observed",
                s.getReadyReplicas() + "/" + set.getSpec().replicasOrDefault() + " Running",
                set.getMetadata().getGeneration(),
                clock.instant()));
    return s;
  }

  private static boolean inWarmPool(MicroVM vm) {
    return vm.getMetadata().getLabels() != null
        && vm.getMetadata().getLabels().containsKey(HearthApi.WARM_POOL_LABEL);
  }

  /** Takes a member out of the warm pool: its agent restores it from its snapshot. */
  private void resume(MicroVMSet set, MicroVM vm, Context<MicroVMSet> context) {
    // Through the cached object, not by name: a patch by name GETs the object first. The merge
    // patch carries no resourceVersion, so how stale the copy is does not matter.
    context
        .getClient()
        .resource(vm)
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"metadata\":{\"labels\":{\""
                + HearthApi.WARM_POOL_LABEL
                + "\":null}},\"spec\":{\"runState\":\"Running\"}}");
    events.normal(set, "Resumed", "resumed " + vm.getMetadata().getName() + " from the warm pool");
  }

  private void create(MicroVMSet set, int index, boolean suspended, Context<MicroVMSet> context) {
    var template = set.getSpec().getTemplate();
    Map<String, String> labels = new HashMap<>();
    Map<String, String> annotations = new HashMap<>();
    if (template.getMetadata() != null) {
      if (template.getMetadata().getLabels() != null) {
        labels.putAll(template.getMetadata().getLabels());
      }
      if (template.getMetadata().getAnnotations() != null) {
        annotations.putAll(template.getMetadata().getAnnotations());
      }
    }
    labels.put(HearthApi.SET_LABEL, set.getMetadata().getName());
    if (suspended) {
      labels.put(HearthApi.WARM_POOL_LABEL, "true");
    }
    MicroVM vm = new MicroVM();
    vm.setMetadata(
        new ObjectMetaBuilder()
            .withName(set.getMetadata().getName() + "-" + index)
            .withNamespace(set.getMetadata().getNamespace())
            .withLabels(labels)
            .withAnnotations(annotations)
            .withOwnerReferences(
                new OwnerReferenceBuilder()
                    .withApiVersion(set.getApiVersion())
                    .withKind(set.getKind())
                    .withName(set.getMetadata().getName())
                    .withUid(set.getMetadata().getUid())
                    .withController(true)
                    .withBlockOwnerDeletion(true)
                    .build())
            .build());
    MicroVMSpec spec = context.getClient().getKubernetesSerialization().clone(template.getSpec());
    if (suspended) {
      spec.setRunState(RunState.Suspended); // booted once, then kept in a snapshot
    }
    vm.setSpec(spec);
    try {
      context.getClient().resource(vm).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      // Created by an earlier pass the cache has not shown yet.
    }
  }

  private void delete(MicroVMSet set, String vmName, Context<MicroVMSet> context) {
    context
        .getClient()
        .resources(MicroVM.class)
        .inNamespace(set.getMetadata().getNamespace())
        .withName(vmName)
        .delete();
  }

  /** Whether status already carries this selector mismatch. */
  private static boolean alreadyReported(MicroVMSet set, String mismatch) {
    return set.getStatus() != null
        && set.getStatus().getConditions() != null
        && set.getStatus().getConditions().stream()
            .anyMatch(
                c ->
                    READY.equals(c.getType())
                        && SELECTOR_MISMATCH.equals(c.getReason())
                        && mismatch.equals(c.getMessage()));
  }

  /** Why the selector does not select the template's labels, or null when it does. */
  static String selectorMismatch(MicroVMSet set) {
    LabelSelector sel = set.getSpec().getSelector();
    if (sel == null) {
      return "spec.selector is required";
    }
    if (sel.getMatchExpressions() != null && !sel.getMatchExpressions().isEmpty()) {
      return "spec.selector.matchExpressions is not supported; use matchLabels";
    }
    Map<String, String> want = sel.getMatchLabels() == null ? Map.of() : sel.getMatchLabels();
    if (want.isEmpty()) {
      return "spec.selector.matchLabels must not be empty";
    }
    var meta = set.getSpec().getTemplate().getMetadata();
    Map<String, String> have =
        meta == null || meta.getLabels() == null ? Map.of() : meta.getLabels();
    for (var e : want.entrySet()) {
      if (!e.getValue().equals(have.get(e.getKey()))) {
        return "spec.selector.matchLabels "
            + e.getKey()
            + "="
            + e.getValue()
            + " does not match template.metadata.labels";
      }
    }
    return null;
  }

  static String selectorString(LabelSelector sel) {
    if (sel == null || sel.getMatchLabels() == null) {
      return "";
    }
    return new TreeMap<>(sel.getMatchLabels())
        .entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining(","));
  }

  @Override
  public ErrorStatusUpdateControl<MicroVMSet> updateErrorStatus(
      MicroVMSet set, Context<MicroVMSet> context, Exception e) {
    if (StatusPatch.causedByConflict(e)) {
      // A stale copy (the set changed while it was reconciled): the retry sees the new one. Not a
      // failure worth a Warning, nor a condition written from the stale copy.
      return ErrorStatusUpdateControl.defaultErrorProcessing();
    }
    events.warning(set, "ReconcileError", String.valueOf(e.getMessage()));
    MicroVMSetStatus s = set.getStatus() == null ? new MicroVMSetStatus() : set.getStatus();
    if (s.getConditions() == null) {
      s.setConditions(new java.util.ArrayList<>());
    }
    Conditions.put(
        s.getConditions(),
        Conditions.of(
            READY,
            HearthApi.Conditions.FALSE,
            HearthApi.Reasons.RECONCILE_ERROR,
            String.valueOf(e.getMessage()),
            set.getMetadata().getGeneration(),
            clock.instant()));
    set.setStatus(s);
    return ErrorStatusUpdateControl.patchStatus(set);
  }
}
