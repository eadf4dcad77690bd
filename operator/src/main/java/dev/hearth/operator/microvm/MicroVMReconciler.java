package dev.hearth.operator.microvm;

import dev.hearth.api.client.EventRecorder;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.operator.scheduling.Decision;
import dev.hearth.operator.scheduling.NodeCandidate;
import dev.hearth.operator.support.MicroVMs;
import dev.hearth.operator.support.OperatorMetrics;
import dev.hearth.operator.support.SharedMicroVMs;
import dev.hearth.operator.support.StatusPatch;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.MaxReconciliationInterval;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Binds MicroVMs to nodes. Thin: the decision is {@link BindingCoordinator}'s, the writes are
 * {@link MicroVMWriter}'s. Node and core-Node changes re-trigger every unbound VM.
 */
@ControllerConfiguration(
    name = "microvm-scheduler",
    generationAwareEventProcessing = false,
    maxReconciliationInterval =
        @MaxReconciliationInterval(interval = 60, timeUnit = TimeUnit.SECONDS))
public final class MicroVMReconciler implements Reconciler<MicroVM> {
  private final BindingCoordinator coordinator;
  private final MicroVMWriter writer;
  private final EventRecorder events;
  private final OperatorMetrics metrics;
  private final Clock clock;
  private final Duration pendingRetry;
  private final SharedMicroVMs shared;
  private volatile InformerEventSource<MicroVMNode, MicroVM> nodes;
  private volatile InformerEventSource<Node, MicroVM> coreNodes;
  private volatile IndexerResourceCache<MicroVM> cache;
  // VMs whose bind metadata (label, finalizer) this operator wrote and the cache does not show yet.
  private final Set<String> metadataWritten = ConcurrentHashMap.newKeySet();

  public MicroVMReconciler(
      BindingCoordinator coordinator,
      MicroVMWriter writer,
      EventRecorder events,
      OperatorMetrics metrics,
      Clock clock,
      Duration pendingRetry,
      SharedMicroVMs shared) {
    this.coordinator = coordinator;
    this.writer = writer;
    this.events = events;
    this.metrics = metrics;
    this.clock = clock;
    this.pendingRetry = pendingRetry;
    this.shared = shared;
  }

  /** Index of the VM cache: the node a VM is bound to (status) or labelled for. */
  private static final String BY_NODE = "byNode";

  @Override
  public List<EventSource<?, MicroVM>> prepareEventSources(EventSourceContext<MicroVM> context) {
    cache = context.getPrimaryCache();
    cache.addIndexer(BY_NODE, MicroVMReconciler::nodesOf);
    metrics.pendingFrom(() -> cache.list().filter(vm -> MicroVMs.boundNode(vm) == null).count());
    nodes =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(MicroVMNode.class, MicroVM.class)
                .withName("microvmnodes")
                .withSecondaryToPrimaryMapper(n -> unboundVms())
                .build(),
            context);
    coreNodes =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Node.class, MicroVM.class)
                .withName("nodes")
                .withSecondaryToPrimaryMapper(n -> unboundVms())
                .build(),
            context);
    // Other controllers follow MicroVMs through this informer rather than one of their own.
    return List.of(nodes, coreNodes, shared.source(cache));
  }

  private static List<String> nodesOf(MicroVM vm) {
    String bound = MicroVMs.boundNode(vm);
    Map<String, String> labels = vm.getMetadata().getLabels();
    String labelled = labels == null ? null : labels.get(HearthApi.NODE_LABEL);
    if (bound == null) {
      return labelled == null ? List.of() : List.of(labelled);
    }
    return labelled == null || labelled.equals(bound) ? List.of(bound) : List.of(bound, labelled);
  }

  /**
   * The cached VMs bound to or labelled for {@code node} (shared cache objects: copy before
   * changing), or empty before this controller's event sources exist.
   */
  public Optional<List<MicroVM>> cachedVmsOn(String node) {
    IndexerResourceCache<MicroVM> c = cache;
    return c == null ? Optional.empty() : Optional.of(c.byIndex(BY_NODE, node));
  }

  private Set<ResourceID> unboundVms() {
    return cache
        .list()
        .filter(vm -> MicroVMs.boundNode(vm) == null && !MicroVMs.deleting(vm))
        .map(ResourceID::fromResource)
        .collect(Collectors.toSet());
  }

  @Override
  public UpdateControl<MicroVM> reconcile(MicroVM vm, Context<MicroVM> context) {
    String node = MicroVMs.boundNode(vm);
    if (node != null) {
      coordinator.observe(vm);
      metrics.trackNode(node);
      boolean metadataComplete = MicroVMs.hasNodeLabel(vm, node) && MicroVMs.hasAgentFinalizer(vm);
      if (metadataComplete) {
        metadataWritten.remove(vm.getMetadata().getUid());
      } else if (!MicroVMs.deleting(vm)
          && !vm.finished()
          && !metadataWritten.remove(vm.getMetadata().getUid())) {
        // Completes a bind whose metadata patch was lost (operator restart, error). Skipped once
        // after this operator wrote it, as the cache only lags then (the event of the status write
        // comes first): that would cost a refused patch and a read per bind. Not for a VM that has
        // finished:
        // node-loss handling releases the agent finalizer of a Failed VM on a dead node, and
        // putting it back would leave nobody to remove it.
        completeBindMetadata(vm, node);
      }
      return UpdateControl.noUpdate();
    }
    if (MicroVMs.deleting(vm)) {
      return UpdateControl.noUpdate();
    }
    long start = System.nanoTime();
    switch (coordinator.pendingBind(vm)) {
      case WRITTEN -> {
        return UpdateControl.noUpdate();
      }
      case IN_DOUBT -> {
        String reserved = coordinator.reservedNode(vm);
        if (reserved != null) {
          return bind(vm, reserved, start);
        }
      }
      case NONE -> {}
    }
    Decision decision = coordinator.decideAndReserve(vm, candidates(), () -> cache.list().toList());
    return switch (decision) {
      case Decision.Bind bind -> bind(vm, bind.node(), start);
      case Decision.Unschedulable u -> {
        metrics.unschedulable();
        if (writer.markUnschedulable(vm, HearthApi.Reasons.UNSCHEDULABLE, u.reason())) {
          events.warning(vm, "FailedScheduling", u.reason());
        }
        yield UpdateControl.<MicroVM>noUpdate().rescheduleAfter(pendingRetry);
      }
    };
  }

  /**
   * Adds the node label and agent finalizer if the cached copy lacks them. A conflict usually means
   * the cache lags this operator's own metadata patch; the server's copy decides, without a retry.
   */
  private void completeBindMetadata(MicroVM cached, String node) {
    try {
      writer.ensureBindMetadata(cached, node);
    } catch (KubernetesClientException e) {
      if (!StatusPatch.isConflict(e)) {
        throw e;
      }
      MicroVM fresh = writer.fetch(cached);
      if (fresh != null
          && node.equals(MicroVMs.boundNode(fresh))
          && !MicroVMs.deleting(fresh)
          && !fresh.finished()) {
        writer.ensureBindMetadata(fresh, node);
      }
    }
  }

  private UpdateControl<MicroVM> bind(MicroVM vm, String node, long startNanos) {
    MicroVM updated;
    try {
      updated = writer.bindStatus(vm, node);
    } catch (RuntimeException e) {
      if (!(e instanceof KubernetesClientException k && StatusPatch.isConflict(k))) {
        // Timeout, lost response, 5xx: the write may have landed, or may still land after any read
        // made now. Keep the room until the server shows the VM bound, gone, or moved on.
        coordinator.bindInDoubt(vm);
        MicroVM fresh;
        try {
          fresh = writer.fetch(vm);
        } catch (RuntimeException readFailed) {
          e.addSuppressed(readFailed);
          throw e;
        }
        coordinator.settleInDoubt(vm, fresh);
        throw e;
      }
      // A conflict means the cached copy was stale and the write was refused. The change that made
      // the copy stale is on its way as an event and triggers a new decision; no error, no
      // back-off. The reschedule is only a safety net.
      coordinator.bindRefused(vm, fetchOrNull(vm));
      metrics.bindConflict();
      return UpdateControl.<MicroVM>noUpdate().rescheduleAfter(pendingRetry);
    }
    coordinator.bindWritten(vm);
    metrics.trackNode(node);
    writer.ensureBindMetadata(updated, node);
    metadataWritten.add(vm.getMetadata().getUid());
    metrics.bound(Duration.ofNanos(System.nanoTime() - startNanos));
    events.normal(updated, "Scheduled", "bound to node " + node);
    return UpdateControl.noUpdate();
  }

  private MicroVM fetchOrNull(MicroVM vm) {
    try {
      return writer.fetch(vm);
    } catch (KubernetesClientException e) {
      return null;
    }
  }

  private Collection<NodeCandidate> candidates() {
    Map<String, Node> core = new HashMap<>();
    coreNodes.list().forEach(n -> core.put(n.getMetadata().getName(), n));
    return nodes
        .list()
        .map(n -> NodeCandidates.of(n, core.get(n.getMetadata().getName())))
        .toList();
  }

  @Override
  public ErrorStatusUpdateControl<MicroVM> updateErrorStatus(
      MicroVM vm, Context<MicroVM> context, Exception e) {
    if (StatusPatch.causedByConflict(e)) {
      return ErrorStatusUpdateControl.defaultErrorProcessing(); // a stale cache; just retry
    }
    // The copy JOSDK hands over may predate a bind that did land: decide on a fresh read, and
    // write with its resourceVersion, so an error report never unbinds a VM.
    MicroVM fresh = writer.fetch(vm);
    if (fresh != null && MicroVMs.boundNode(fresh) == null && !MicroVMs.deleting(fresh)) {
      try {
        writer.markUnschedulable(
            fresh, HearthApi.Reasons.RECONCILE_ERROR, String.valueOf(e.getMessage()));
        events.warning(fresh, "SchedulingError", String.valueOf(e.getMessage()));
      } catch (KubernetesClientException ignored) {
        // Changed again meanwhile; the retry will look at it afresh.
      }
    }
    return ErrorStatusUpdateControl.defaultErrorProcessing();
  }
}
