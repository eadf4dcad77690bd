package dev.hearth.operator;

import dev.hearth.api.client.EventRecorder;
import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.operator.microvm.BindingCoordinator;
import dev.hearth.operator.microvm.MicroVMReconciler;
import dev.hearth.operator.microvm.MicroVMWriter;
import dev.hearth.operator.network.ServiceEndpointsReconciler;
import dev.hearth.operator.node.MicroVMNodeReconciler;
import dev.hearth.operator.node.NodeLossHandler;
import dev.hearth.operator.set.MicroVMSetReconciler;
import dev.hearth.operator.support.MicroVMs;
import dev.hearth.operator.support.OperatorMetrics;
import dev.hearth.operator.support.SharedMicroVMs;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.RuntimeInfo;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wires the reconcilers into one JOSDK Operator. Used by {@link OperatorCommand} and by tests. */
public final class HearthOperator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HearthOperator.class);

  private final Operator operator;
  private final BindingCoordinator coordinator;
  private final OperatorMetrics metrics;
  private final EventRecorder events;
  private static final int EVENT_SENDERS = 4;
  private static final int EVENT_QUEUE = 1000;
  private volatile boolean closing;

  public HearthOperator(
      KubernetesClient client, OperatorConfig config, Clock clock, MeterRegistry registry) {
    this.metrics = new OperatorMetrics(registry);
    this.coordinator = new BindingCoordinator(config.scheduler());
    metrics.allocationFrom(
        n -> coordinator.usedOn(n).vcpus(), n -> coordinator.usedOn(n).memoryMiB());
    // Off the reconcile threads: a bind is three writes of its own, and its Event would be a
    // fourth on each bind's path; a burst of binds sheds Events rather than slow down.
    this.events =
        EventRecorder.async(
            client, clock, StatusApply.OPERATOR, null, LOG::warn, EVENT_SENDERS, EVENT_QUEUE);
    this.operator =
        new Operator(
            o -> {
              o.withKubernetesClient(client)
                  .withCloseClientOnStop(false)
                  .withUseSSAToPatchPrimaryResource(true)
                  .withConcurrentReconciliationThreads(config.reconcileThreads())
                  .withMetrics(
                      MicrometerMetrics.newMicrometerMetricsBuilder(registry)
                          .notCollectingMetricsPerResource()
                          .build());
              if (config.leaderElection()) {
                o.withLeaderElectionConfiguration(
                    new LeaderElectionConfiguration(
                        HearthApi.OPERATOR_LEADER_LEASE,
                        config.leaderElectionNamespace(),
                        LeaderElectionConfiguration.LEASE_DURATION_DEFAULT_VALUE,
                        LeaderElectionConfiguration.RENEW_DEADLINE_DEFAULT_VALUE,
                        LeaderElectionConfiguration.RETRY_PERIOD_DEFAULT_VALUE,
                        null, // identity: JOSDK's default
                        new LeaderCallbacks(() -> {}, this::stoppedLeading, leader -> {}),
                        // JOSDK would call System.exit from inside close() too, i.e. from the
                        // SIGTERM shutdown hook, where exit blocks forever: the pod then lingers
                        // until the kubelet kills it. stoppedLeading exits only on a lost Lease.
                        false));
              }
            });
    MicroVMWriter writer = new MicroVMWriter(client, clock);
    var sharedVms = new SharedMicroVMs(operator.getConfigurationService().cacheSyncTimeout());
    var vmReconciler =
        new MicroVMReconciler(
            coordinator, writer, events, metrics, clock, config.pendingRetry(), sharedVms);
    operator.register(vmReconciler, c -> namespaces(c, config));
    operator.register(
        new MicroVMNodeReconciler(
            config,
            clock,
            client,
            events,
            new NodeLossHandler(
                client, writer, coordinator, events, metrics, clock, vmReconciler::cachedVmsOn),
            node ->
                vmReconciler
                    .cachedVmsOn(node)
                    .map(vms -> (int) vms.stream().filter(MicroVMs::holdsResources).count())));
    operator.register(new MicroVMSetReconciler(events, clock), c -> namespaces(c, config));
    operator.register(
        new ServiceEndpointsReconciler(client, sharedVms), c -> namespaces(c, config));
  }

  private static <R extends io.fabric8.kubernetes.api.model.HasMetadata> void namespaces(
      io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider<R> c,
      OperatorConfig config) {
    if (!config.namespaces().isEmpty()) {
      c.settingNamespaces(config.namespaces());
    }
  }

  /** Starts the controllers; returns once their informers have synced. */
  public void start() {
    operator.start();
  }

  /**
   * What keeps this replica from being ready, empty when ready: informers not yet synced, or an
   * event source unhealthy. Leadership does not count: a standby with synced caches is ready.
   */
  public List<String> readinessProblems() {
    RuntimeInfo info = operator.getRuntimeInfo();
    if (!info.isStarted()) {
      return List.of("starting: the informers have not synced yet");
    }
    List<String> problems = new ArrayList<>();
    info.unhealthyEventSources()
        .forEach(
            (controller, sources) ->
                sources.forEach(
                    (name, health) ->
                        problems.add(
                            controller + ": event source " + name + " is " + health.getStatus())));
    return problems;
  }

  public BindingCoordinator coordinator() {
    return coordinator;
  }

  /** Events dropped because more came than the API server took. */
  public long eventsDropped() {
    return events.dropped();
  }

  public OperatorMetrics metrics() {
    return metrics;
  }

  /** Stops the controllers; giving up the leader Lease here is no reason to exit. */
  @Override
  public void close() {
    closing = true;
    operator.stop();
    events.close();
  }

  /**
   * The leader Lease is gone. Unless this replica is closing, it exits with status 1, as JOSDK
   * would, so that no two replicas ever reconcile at once and a standby takes over.
   */
  private void stoppedLeading() {
    if (!closing) {
      LOG.error("lost the leader Lease {}; exiting", HearthApi.OPERATOR_LEADER_LEASE);
      System.exit(1);
    }
  }
}
