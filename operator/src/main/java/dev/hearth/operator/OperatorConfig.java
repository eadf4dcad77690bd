package dev.hearth.operator;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.operator.network.ClusterNetwork;
import dev.hearth.operator.scheduling.SchedulerConfig;
import java.time.Duration;
import java.util.Set;

/**
 * Operator settings. {@link OperatorCommand} makes them from its options (flags or {@code HEARTH_*}
 * variables); tests build them directly from {@link #defaults()}.
 *
 * @param namespaces namespaces to watch for MicroVMs and MicroVMSets; empty means all
 * @param leaseNamespace where agents keep their node Leases
 * @param nodeGracePeriod how long after a Lease expires the operator moves VMs off the node
 * @param pendingRetry how often an unschedulable VM is retried without a triggering event
 * @param nodeRecheck upper bound between two health checks of one node
 * @param leaderElection whether to elect a leader (one active replica)
 * @param leaderElectionNamespace where the leader Lease lives (null: the client's namespace)
 * @param reconcileThreads JOSDK reconciliation threads
 * @param metricsPort the one HTTP port: {@code /metrics}, {@code /healthz}, {@code /readyz}; 0
 *     serves none
 * @param network the cluster range node subnets are allocated from ({@link ClusterNetwork#NONE}:
 *     none)
 */
public record OperatorConfig(
    Set<String> namespaces,
    String leaseNamespace,
    SchedulerConfig scheduler,
    Duration nodeGracePeriod,
    Duration pendingRetry,
    Duration nodeRecheck,
    boolean leaderElection,
    String leaderElectionNamespace,
    int reconcileThreads,
    int metricsPort,
    ClusterNetwork network) {
  static final int DEFAULT_NODE_GRACE_SECONDS = 60;
  static final int DEFAULT_RECONCILE_THREADS = 50;
  static final int DEFAULT_HTTP_PORT = 8080;

  public OperatorConfig {
    namespaces = Set.copyOf(namespaces);
    network = network == null ? ClusterNetwork.NONE : network;
  }

  /** As the canonical constructor, allocating no node subnets. */
  public OperatorConfig(
      Set<String> namespaces,
      String leaseNamespace,
      SchedulerConfig scheduler,
      Duration nodeGracePeriod,
      Duration pendingRetry,
      Duration nodeRecheck,
      boolean leaderElection,
      String leaderElectionNamespace,
      int reconcileThreads,
      int metricsPort) {
    this(
        namespaces,
        leaseNamespace,
        scheduler,
        nodeGracePeriod,
        pendingRetry,
        nodeRecheck,
        leaderElection,
        leaderElectionNamespace,
        reconcileThreads,
        metricsPort,
        ClusterNetwork.NONE);
  }

  public static OperatorConfig defaults() {
    return new OperatorConfig(
        Set.of(),
        HearthApi.DEFAULT_LEASE_NAMESPACE,
        SchedulerConfig.DEFAULT,
        Duration.ofSeconds(DEFAULT_NODE_GRACE_SECONDS),
        Duration.ofSeconds(10),
        Duration.ofSeconds(10),
        true,
        null,
        DEFAULT_RECONCILE_THREADS,
        DEFAULT_HTTP_PORT);
  }

  public OperatorConfig withScheduler(SchedulerConfig s) {
    return new OperatorConfig(
        namespaces,
        leaseNamespace,
        s,
        nodeGracePeriod,
        pendingRetry,
        nodeRecheck,
        leaderElection,
        leaderElectionNamespace,
        reconcileThreads,
        metricsPort,
        network);
  }

  public OperatorConfig withTimings(Duration grace, Duration pendingRetry, Duration nodeRecheck) {
    return new OperatorConfig(
        namespaces,
        leaseNamespace,
        scheduler,
        grace,
        pendingRetry,
        nodeRecheck,
        leaderElection,
        leaderElectionNamespace,
        reconcileThreads,
        metricsPort,
        network);
  }

  public OperatorConfig withLeaderElection(boolean on) {
    return new OperatorConfig(
        namespaces,
        leaseNamespace,
        scheduler,
        nodeGracePeriod,
        pendingRetry,
        nodeRecheck,
        on,
        leaderElectionNamespace,
        reconcileThreads,
        metricsPort,
        network);
  }

  public OperatorConfig withMetricsPort(int port) {
    return new OperatorConfig(
        namespaces,
        leaseNamespace,
        scheduler,
        nodeGracePeriod,
        pendingRetry,
        nodeRecheck,
        leaderElection,
        leaderElectionNamespace,
        reconcileThreads,
        port,
        network);
  }

  public OperatorConfig withNetwork(ClusterNetwork n) {
    return new OperatorConfig(
        namespaces,
        leaseNamespace,
        scheduler,
        nodeGracePeriod,
        pendingRetry,
        nodeRecheck,
        leaderElection,
        leaderElectionNamespace,
        reconcileThreads,
        metricsPort,
        n);
  }
}
