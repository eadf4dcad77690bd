package dev.hearth.operator;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.operator.scheduling.SchedulerConfig;
import dev.hearth.operator.scheduling.SchedulingStrategy;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Operator settings, read from the environment in production (see {@link #fromEnv}).
 *
 * @param namespaces namespaces to watch for MicroVMs and MicroVMSets; empty means all
 * @param leaseNamespace where agents keep their node Leases
 * @param nodeGracePeriod how long after a Lease expires the operator moves VMs off the node
 * @param pendingRetry how often an unschedulable VM is retried without a triggering event
 * @param nodeRecheck upper bound between two health checks of one node
 * @param leaderElection whether to elect a leader (one active replica)
 * @param leaderElectionNamespace where the leader Lease lives (null: the client's namespace)
 * @param reconcileThreads JOSDK reconciliation threads
 * @param metricsPort port of the Prometheus endpoint; 0 disables it
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
    int metricsPort) {

  public OperatorConfig {
    namespaces = Set.copyOf(namespaces);
  }

  public static OperatorConfig defaults() {
    return new OperatorConfig(
        Set.of(),
        HearthApi.DEFAULT_LEASE_NAMESPACE,
        SchedulerConfig.DEFAULT,
        Duration.ofSeconds(60),
        Duration.ofSeconds(10),
        Duration.ofSeconds(10),
        true,
        null,
        50,
        8080);
  }

  /**
   * Reads HEARTH_WATCH_NAMESPACES (comma-separated), HEARTH_LEASE_NAMESPACE,
   * HEARTH_SCHEDULING_STRATEGY (spread|pack), HEARTH_VMM_OVERHEAD_MIB, HEARTH_VMM_OVERHEAD_VCPUS,
   * HEARTH_NODE_GRACE_SECONDS, HEARTH_LEADER_ELECTION (true|false), HEARTH_LEADER_NAMESPACE,
   * (default: POD_NAMESPACE), HEARTH_RECONCILE_THREADS and HEARTH_METRICS_PORT; unset ones keep
   * {@link #defaults()}.
   */
  public static OperatorConfig fromEnv(Map<String, String> env) {
    OperatorConfig d = defaults();
    Set<String> ns =
        env.containsKey("HEARTH_WATCH_NAMESPACES")
            ? Arrays.stream(env.get("HEARTH_WATCH_NAMESPACES").split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .collect(Collectors.toSet())
            : d.namespaces();
    SchedulerConfig sc =
        new SchedulerConfig(
            SchedulingStrategy.valueOf(
                env.getOrDefault("HEARTH_SCHEDULING_STRATEGY", d.scheduler().strategy().name())
                    .toUpperCase(Locale.ROOT)),
            Long.parseLong(
                env.getOrDefault(
                    "HEARTH_VMM_OVERHEAD_MIB", Long.toString(d.scheduler().vmmOverheadMiB()))),
            Long.parseLong(
                env.getOrDefault(
                    "HEARTH_VMM_OVERHEAD_VCPUS", Long.toString(d.scheduler().vmmOverheadVcpus()))));
    return new OperatorConfig(
        ns,
        env.getOrDefault("HEARTH_LEASE_NAMESPACE", d.leaseNamespace()),
        sc,
        Duration.ofSeconds(
            Long.parseLong(
                env.getOrDefault(
                    "HEARTH_NODE_GRACE_SECONDS", Long.toString(d.nodeGracePeriod().toSeconds())))),
        d.pendingRetry(),
        d.nodeRecheck(),
        Boolean.parseBoolean(env.getOrDefault("HEARTH_LEADER_ELECTION", "true")),
        env.getOrDefault("HEARTH_LEADER_NAMESPACE", env.get("POD_NAMESPACE")),
        Integer.parseInt(
            env.getOrDefault("HEARTH_RECONCILE_THREADS", Integer.toString(d.reconcileThreads()))),
        Integer.parseInt(
            env.getOrDefault("HEARTH_METRICS_PORT", Integer.toString(d.metricsPort()))));
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
        metricsPort);
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
        metricsPort);
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
        metricsPort);
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
        port);
  }
}
