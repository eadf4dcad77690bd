package dev.hearth.operator;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.common.HearthBuild;
import dev.hearth.common.LogLevelOption;
import dev.hearth.operator.network.ClusterNetwork;
import dev.hearth.operator.scheduling.SchedulerConfig;
import dev.hearth.operator.scheduling.SchedulingStrategy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The operator process. Every option has one environment variable, {@code HEARTH_} and the option's
 * name in upper case ({@code --node-grace-seconds} is {@code HEARTH_NODE_GRACE_SECONDS}): the
 * variable sets the default, a flag overrides it. The chart sets the variables; the e2e chart tests
 * check that it sets no other. The cluster comes from the in-cluster ServiceAccount or KUBECONFIG.
 */
@Command(
    name = "hearth-operator",
    mixinStandardHelpOptions = true,
    versionProvider = OperatorCommand.Version.class,
    description = "Schedule MicroVMs onto nodes, scale MicroVMSets and watch node health.",
    subcommands = UninstallCleanupCommand.class,
    footer = {
      "",
      "Each option can also be set by the environment variable named beside it; a flag wins."
    })
public final class OperatorCommand implements Callable<Integer> {

  @Option(
      names = "--watch-namespaces",
      split = ",",
      defaultValue = "${env:HEARTH_WATCH_NAMESPACES}",
      description =
          "Comma-separated namespaces whose MicroVMs and MicroVMSets are reconciled; none means"
              + " all (env HEARTH_WATCH_NAMESPACES).")
  List<String> watchNamespaces;

  @Option(
      names = "--lease-namespace",
      defaultValue = "${env:HEARTH_LEASE_NAMESPACE:-" + HearthApi.DEFAULT_LEASE_NAMESPACE + "}",
      description =
          "Where the agents keep their node Leases (env HEARTH_LEASE_NAMESPACE;"
              + " default ${DEFAULT-VALUE}).")
  String leaseNamespace;

  @Option(
      names = "--scheduling-strategy",
      defaultValue = "${env:HEARTH_SCHEDULING_STRATEGY:-spread}",
      description =
          "spread (least allocated node first) or pack (most allocated first)"
              + " (env HEARTH_SCHEDULING_STRATEGY; default ${DEFAULT-VALUE}).")
  SchedulingStrategy schedulingStrategy;

  @Option(
      names = "--vmm-overhead-mib",
      defaultValue =
          "${env:HEARTH_VMM_OVERHEAD_MIB:-" + SchedulerConfig.DEFAULT_VMM_OVERHEAD_MIB + "}",
      description =
          "Host memory a VM costs beyond its guest memory (env HEARTH_VMM_OVERHEAD_MIB;"
              + " default ${DEFAULT-VALUE}).")
  long vmmOverheadMiB;

  @Option(
      names = "--vmm-overhead-vcpus",
      defaultValue = "${env:HEARTH_VMM_OVERHEAD_VCPUS:-0}",
      description =
          "Host vCPUs a VM costs beyond its own (env HEARTH_VMM_OVERHEAD_VCPUS;"
              + " default ${DEFAULT-VALUE}).")
  long vmmOverheadVcpus;

  @Option(
      names = "--node-grace-seconds",
      defaultValue =
          "${env:HEARTH_NODE_GRACE_SECONDS:-" + OperatorConfig.DEFAULT_NODE_GRACE_SECONDS + "}",
      description =
          "How long after a node's Lease expired its VMs are moved (env HEARTH_NODE_GRACE_SECONDS;"
              + " default ${DEFAULT-VALUE}).")
  int nodeGraceSeconds;

  @Option(
      names = "--leader-election",
      arity = "1",
      defaultValue = "${env:HEARTH_LEADER_ELECTION:-true}",
      description =
          "true: replicas elect one leader through a Lease (env HEARTH_LEADER_ELECTION;"
              + " default ${DEFAULT-VALUE}).")
  boolean leaderElection;

  @Option(
      names = "--leader-election-namespace",
      defaultValue = "${env:HEARTH_LEADER_ELECTION_NAMESPACE}",
      description =
          "Namespace of the Lease "
              + HearthApi.OPERATOR_LEADER_LEASE
              + " (env HEARTH_LEADER_ELECTION_NAMESPACE; default: the client's namespace).")
  String leaderElectionNamespace;

  @Option(
      names = "--reconcile-threads",
      defaultValue =
          "${env:HEARTH_RECONCILE_THREADS:-" + OperatorConfig.DEFAULT_RECONCILE_THREADS + "}",
      description =
          "Reconciliation threads (env HEARTH_RECONCILE_THREADS; default ${DEFAULT-VALUE}).")
  int reconcileThreads;

  @Option(
      names = "--http-port",
      defaultValue = "${env:HEARTH_HTTP_PORT:-" + OperatorConfig.DEFAULT_HTTP_PORT + "}",
      description =
          "Port of /metrics, /healthz and /readyz; 0 serves none (env HEARTH_HTTP_PORT;"
              + " default ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(
      names = "--cluster-cidr",
      defaultValue = "${env:HEARTH_CLUSTER_CIDR:-}",
      description =
          "IPv4 range from which each MicroVMNode is allocated a guest subnet of its own (its"
              + " spec.subnet), as kube-controller-manager's --cluster-cidr; empty allocates"
              + " none, and each agent uses the subnet it is configured with (env"
              + " HEARTH_CLUSTER_CIDR).")
  String clusterCidr;

  @Option(
      names = "--node-cidr-mask-size",
      defaultValue =
          "${env:HEARTH_NODE_CIDR_MASK_SIZE:-" + ClusterNetwork.DEFAULT_NODE_MASK_SIZE + "}",
      description =
          "Prefix length of each node's guest subnet, /8 to /30 (env HEARTH_NODE_CIDR_MASK_SIZE;"
              + " default ${DEFAULT-VALUE}).")
  int nodeCidrMaskSize;

  @Mixin LogLevelOption logging;

  /** The configured command line; tests parse with it without running anything. */
  public static CommandLine commandLine() {
    return new CommandLine(new OperatorCommand()).setCaseInsensitiveEnumValuesAllowed(true);
  }

  /** The settings these options make. */
  public OperatorConfig config() {
    Set<String> namespaces =
        watchNamespaces == null
            ? Set.of()
            : watchNamespaces.stream()
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .collect(Collectors.toSet());
    OperatorConfig d = OperatorConfig.defaults();
    return new OperatorConfig(
        namespaces,
        leaseNamespace,
        new SchedulerConfig(schedulingStrategy, vmmOverheadMiB, vmmOverheadVcpus),
        Duration.ofSeconds(nodeGraceSeconds),
        d.pendingRetry(),
        d.nodeRecheck(),
        leaderElection,
        leaderElectionNamespace == null || leaderElectionNamespace.isBlank()
            ? null
            : leaderElectionNamespace,
        reconcileThreads,
        httpPort,
        ClusterNetwork.parse(clusterCidr, nodeCidrMaskSize));
  }

  @Override
  public Integer call() throws Exception {
    logging.apply(); // before the first logger: slf4j-simple reads its level once
    Logger log = LoggerFactory.getLogger(OperatorCommand.class);
    OperatorConfig config = config();
    log.info(
        "hearth operator {} starting: namespaces {}, strategy {}, VMM overhead {} MiB,"
            + " node grace {}, leader election {}, HTTP port {}, log level {}",
        HearthBuild.version(),
        config.namespaces().isEmpty() ? "all" : config.namespaces(),
        config.scheduler().strategy(),
        config.scheduler().vmmOverheadMiB(),
        config.nodeGracePeriod(),
        config.leaderElection(),
        config.metricsPort(),
        logging.level());
    KubernetesClient client = new KubernetesClientBuilder().build();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    HearthOperator operator = new HearthOperator(client, config, Clock.systemUTC(), registry);
    OperatorHttpServer http =
        config.metricsPort() > 0
            ? new OperatorHttpServer(
                config.metricsPort(), registry::scrape, operator::readinessProblems)
            : null;
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            Thread.ofPlatform()
                .name("hearth-operator-shutdown")
                .unstarted(
                    () -> {
                      if (http != null) {
                        http.close();
                      }
                      operator.close();
                      client.close();
                      stopped.countDown();
                    }));
    // Returns once the informers have synced; with leader election, reconciling starts when this
    // replica leads, and losing the Lease exits the process with status 1 (JOSDK).
    operator.start();
    log.info("hearth operator started; /readyz answers ready");
    stopped.await();
    return 0;
  }

  /** {@code hearth-operator -V}: the build's version. */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"hearth-operator " + HearthBuild.version()};
    }
  }
}
