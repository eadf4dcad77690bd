package dev.hearth.operator.node;

import dev.hearth.api.client.EventRecorder;
import dev.hearth.api.v1alpha1.Conditions;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.MicroVMNodeStatus;
import dev.hearth.operator.OperatorConfig;
import dev.hearth.operator.network.SubnetAllocator;
import dev.hearth.operator.support.StatusPatch;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
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
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Derives each MicroVMNode's Ready condition from its agent's Lease and, when the node goes silent,
 * hands its VMs to {@link NodeLossHandler}. Time comes from an injected clock.
 */
@ControllerConfiguration(
    name = "microvmnode-health",
    generationAwareEventProcessing = false,
    // A safety net: rechecks continue even after retries of a failing reconcile run out.
    maxReconciliationInterval =
        @MaxReconciliationInterval(interval = 15, timeUnit = TimeUnit.SECONDS))
public final class MicroVMNodeReconciler implements Reconciler<MicroVMNode> {
  private static final Logger LOG = LoggerFactory.getLogger(MicroVMNodeReconciler.class);

  private final OperatorConfig config;
  private final Clock clock;
  private final NodeLossHandler loss;
  private final KubernetesClient client;
  private final StatusPatch status;
  private final EventRecorder events;
  private final SubnetAllocator subnets;
  private final Function<String, Optional<Integer>> boundVms;
  private volatile InformerEventSource<Lease, MicroVMNode> leases;

  public MicroVMNodeReconciler(
      OperatorConfig config,
      Clock clock,
      KubernetesClient client,
      EventRecorder events,
      NodeLossHandler loss,
      Function<String, Optional<Integer>> boundVms) {
    this.client = client;
    this.boundVms = boundVms;
    this.status = new StatusPatch(client);
    this.events = events;
    this.config = config;
    this.clock = clock;
    this.loss = loss;
    this.subnets =
        config.network().enabled()
            ? new SubnetAllocator(client, config.network(), config.namespaces())
            : null;
  }

  @Override
  public List<EventSource<?, MicroVMNode>> prepareEventSources(
      EventSourceContext<MicroVMNode> context) {
    leases =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Lease.class, MicroVMNode.class)
                .withName("node-leases")
                .withNamespaces(config.leaseNamespace())
                .withSecondaryToPrimaryMapper(
                    lease -> {
                      String name = lease.getMetadata().getName();
                      if (!name.startsWith(HearthApi.LEASE_NAME_PREFIX)) {
                        return Set.of();
                      }
                      return Set.of(
                          new ResourceID(name.substring(HearthApi.LEASE_NAME_PREFIX.length())));
                    })
                .build(),
            context);
    return List.of(leases);
  }

  @Override
  public UpdateControl<MicroVMNode> reconcile(MicroVMNode node, Context<MicroVMNode> context) {
    String name = node.getMetadata().getName();
    if (subnets != null) {
      allocateSubnet(node);
    }
    Lease lease =
        leases.get(new ResourceID(HearthApi.leaseName(name), config.leaseNamespace())).orElse(null);
    Instant now = clock.instant();
    Instant registered =
        node.getMetadata().getCreationTimestamp() == null
            ? now
            : Instant.parse(node.getMetadata().getCreationTimestamp());
    NodeHealth.Verdict v = NodeHealth.evaluate(lease, registered, now, config.nodeGracePeriod());
    LOG.debug("node {}: {} ({})", name, v.state(), v.message());
    node = writeReady(node, v);
    writeVmCount(node);
    switch (v.state()) {
      case READY -> {}
      case NOT_READY -> loss.markUnknown(name, v.message());
      case LOST -> loss.evacuate(name, v.message());
    }
    clearHealthError(node);
    Duration next = config.nodeRecheck();
    if (v.nextChange() != null) {
      Duration until = Duration.between(now, v.nextChange()).plusMillis(10);
      if (until.compareTo(next) < 0) {
        next = until.isNegative() ? Duration.ofMillis(10) : until;
      }
    }
    return UpdateControl.<MicroVMNode>noUpdate().rescheduleAfter(next);
  }

  /**
   * Reports a failed health pass on the node: HealthChecked=False with the error, and an Event when
   * the condition changes. JOSDK retries the reconcile with back-off afterwards.
   */
  @Override
  public ErrorStatusUpdateControl<MicroVMNode> updateErrorStatus(
      MicroVMNode node, Context<MicroVMNode> context, Exception e) {
    String message = "node health check failed: " + e.getMessage();
    try {
      if (null
          != putCondition(
              node,
              HearthApi.Conditions.HEALTH_CHECKED,
              HearthApi.Conditions.FALSE,
              HearthApi.Reasons.RECONCILE_ERROR,
              message)) {
        events.warning(node, HearthApi.Reasons.RECONCILE_ERROR, message);
      }
    } catch (KubernetesClientException writeFailed) {
      // The API server is what failed; the retry reports again.
      LOG.debug("could not report the error on node {}", node.getMetadata().getName(), writeFailed);
    }
    return ErrorStatusUpdateControl.defaultErrorProcessing();
  }

  /**
   * Gives the node its guest subnet unless it has one; says so with the SubnetAllocated condition
   * and an Event, or why not when the range is exhausted (the periodic recheck tries again).
   */
  private void allocateSubnet(MicroVMNode node) {
    switch (subnets.ensure(node)) {
      case SubnetAllocator.Outcome.Held held -> {}
      case SubnetAllocator.Outcome.Allocated a -> {
        String message =
            "allocated guest subnet " + a.subnet() + " from " + config.network().clusterCidr();
        putCondition(
            node,
            HearthApi.Conditions.SUBNET_ALLOCATED,
            HearthApi.Conditions.TRUE,
            HearthApi.Reasons.SUBNET_ALLOCATED,
            message);
        events.normal(node, HearthApi.Reasons.SUBNET_ALLOCATED, message);
      }
      case SubnetAllocator.Outcome.Exhausted x -> {
        if (putCondition(
                node,
                HearthApi.Conditions.SUBNET_ALLOCATED,
                HearthApi.Conditions.FALSE,
                HearthApi.Reasons.SUBNET_RANGE_EXHAUSTED,
                x.message())
            != null) {
          events.warning(node, HearthApi.Reasons.SUBNET_RANGE_EXHAUSTED, x.message());
        }
      }
    }
  }

  /** Writes the Ready condition if it changed; returns the node as it now is. */
  private MicroVMNode writeReady(MicroVMNode node, NodeHealth.Verdict v) {
    boolean ready = v.state() == NodeHealth.State.READY;
    String status = ready ? HearthApi.Conditions.TRUE : HearthApi.Conditions.FALSE;
    String reason = ready ? HearthApi.Reasons.LEASE_CURRENT : HearthApi.Reasons.LEASE_EXPIRED;
    MicroVMNode written =
        putCondition(node, HearthApi.Conditions.READY, status, reason, v.message());
    if (written == null) {
      return node;
    }
    if (ready) {
      events.normal(node, "NodeReady", "node is Ready: " + v.message());
    } else {
      events.warning(node, "NodeNotReady", "node is not Ready: " + v.message());
    }
    return written;
  }

  /**
   * Writes status.microVMs (the VMs column) when the cache shows another number of VMs bound there:
   * once per health pass at most, so thousands of binds cost no write each.
   */
  private void writeVmCount(MicroVMNode node) {
    Integer count = boundVms.apply(node.getMetadata().getName()).orElse(null);
    MicroVMNodeStatus s = node.getStatus();
    if (count == null || (s != null && count.equals(s.getMicroVMs()))) {
      return;
    }
    MicroVMNodeStatus newStatus = new MicroVMNodeStatus();
    newStatus.setConditions(s == null ? new ArrayList<>() : s.getConditions());
    newStatus.setMicroVMs(count);
    try {
      status.apply(node, newStatus);
    } catch (KubernetesClientException e) {
      if (!StatusPatch.isConflict(e)) {
        throw e;
      }
      // Someone wrote since the read (the agent); the next pass writes it.
    }
  }

  /** Sets HealthChecked=True after a pass that succeeded, if an error was reported before. */
  private void clearHealthError(MicroVMNode node) {
    boolean failedBefore =
        node.getStatus() != null
            && node.getStatus()
                .condition(HearthApi.Conditions.HEALTH_CHECKED)
                .filter(c -> !HearthApi.Conditions.TRUE.equals(c.getStatus()))
                .isPresent();
    if (failedBefore) {
      putCondition(
          node,
          HearthApi.Conditions.HEALTH_CHECKED,
          HearthApi.Conditions.TRUE,
          HearthApi.Reasons.HEALTH_CHECK_SUCCEEDED,
          "the last node-health pass succeeded");
    }
  }

  /**
   * Writes one condition unless the node already has it with this status and reason. A conflict
   * (the agent writes status too) is retried once on a fresh read. Returns the node as written, or
   * null when it wrote nothing.
   */
  private MicroVMNode putCondition(
      MicroVMNode node, String type, String status, String reason, String message) {
    try {
      return patchCondition(node, type, status, reason, message);
    } catch (KubernetesClientException e) {
      if (!StatusPatch.isConflict(e)) {
        throw e;
      }
      MicroVMNode fresh =
          client.resources(MicroVMNode.class).withName(node.getMetadata().getName()).get();
      return fresh == null ? null : patchCondition(fresh, type, status, reason, message);
    }
  }

  private MicroVMNode patchCondition(
      MicroVMNode node, String type, String status, String reason, String message) {
    MicroVMNodeStatus s = node.getStatus();
    Condition old = s == null ? null : s.condition(type).orElse(null);
    if (old != null && status.equals(old.getStatus()) && Objects.equals(reason, old.getReason())) {
      return null;
    }
    List<Condition> conditions =
        s == null || s.getConditions() == null
            ? new ArrayList<>()
            : new ArrayList<>(s.getConditions());
    Conditions.put(
        conditions,
        Conditions.of(
            type, status, reason, message, node.getMetadata().getGeneration(), clock.instant()));
    // Only the operator's fields are applied; the agent's are its own.
    MicroVMNodeStatus newStatus = new MicroVMNodeStatus();
    newStatus.setConditions(conditions);
    newStatus.setMicroVMs(
        boundVms.apply(node.getMetadata().getName()).orElse(s == null ? null : s.getMicroVMs()));
    return this.status.apply(node, newStatus);
  }
}
