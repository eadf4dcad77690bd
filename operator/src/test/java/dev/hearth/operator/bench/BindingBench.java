package dev.hearth.operator.bench;

import dev.hearth.api.client.MetadataPatches;
import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import dev.hearth.operator.Fixtures;
import dev.hearth.operator.HearthOperator;
import dev.hearth.operator.OperatorConfig;
import dev.hearth.operator.scheduling.SchedulerConfig;
import dev.hearth.operator.scheduling.SchedulingStrategy;
import dev.hearth.operator.support.StatusPatch;
import dev.hearth.testkit.ControlPlane;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Binds N MicroVMs on 100 fake nodes with the whole operator (informers, the JOSDK queue, the real
 * scheduler and binding coordinator, the guarded writes) against a real API server (kube-apiserver
 * and etcd from test-cluster/control-plane.sh, a fresh one for each measurement). Nodes have
 * exactly the room the VMs need, so a bind that ignored earlier ones would overcommit a node; the
 * run fails when a VM is left unbound, is bound twice, or a node is overcommitted.
 *
 * <p>Baseline, measured in the same run: the same three API writes per VM with no operator (create,
 * the status patch that binds, the metadata patch that labels and adds the finalizer), issued
 * straight by the client. Ratios against it show what the operator adds on top of the API server's
 * own cost; they hold across machines better than the absolute figures. Also printed: the
 * operator's heap per bound VM, and the CPU time the API server and etcd spent per VM in each run
 * ({@link ServerCpu}): on a shared machine the times follow the other load, that figure does not.
 * Not run by verify:
 *
 * <pre>./mvnw -pl operator -am -Pbench verify -DskipTests [-Dbench.vms=1000,10000]
 *     [-Dbench.cacheVms=100000]</pre>
 *
 * <p>With {@code bench.cacheVms}, it then measures the operator's heap per VM with that many
 * MicroVMs in its cache ({@link CacheHeapBench}).
 */
public final class BindingBench {
  private static final int NODES = 100;
  static final int WRITERS = 16;
  static final int VM_VCPUS = 1;
  static final int VM_MEMORY_MIB = 64;
  private static final SchedulerConfig SCHEDULER =
      new SchedulerConfig(SchedulingStrategy.SPREAD, 32, 0);
  private static final int LEASE_SECONDS = 3 * 3600;
  private static final Duration TARGET_10K = Duration.ofSeconds(60);

  public static void main(String[] args) throws Exception {
    String spec = System.getProperty("bench.vms", "1000,10000");
    System.out.printf(
        "%d nodes with room for exactly N VMs of %d vCPU/%d MiB (+%d MiB VMM overhead);"
            + " %d writer threads; %d CPUs%n",
        NODES,
        VM_VCPUS,
        VM_MEMORY_MIB,
        SCHEDULER.vmmOverheadMiB(),
        WRITERS,
        Runtime.getRuntime().availableProcessors());
    System.out.printf(
        "%7s | %9s %9s %7s | %8s %8s %7s | %9s %9s %7s | %9s %9s %7s | %9s | %11s %11s %7s%n",
        "VMs",
        "base s",
        "oper s",
        "x time",
        "base/s",
        "oper/s",
        "x rate",
        "base p50",
        "oper p50",
        "x p50",
        "base p99",
        "oper p99",
        "x p99",
        "heap/VM",
        "base srv ms",
        "oper srv ms",
        "x srv");
    boolean ok = true;
    for (String n : spec.split(",")) {
      int vms = Integer.parseInt(n.trim());
      Run base = baseline(vms);
      Run op = withOperator(vms);
      System.out.printf(
          "%7d | %9.1f %9.1f %7.2f | %8.0f %8.0f %7.2f | %7.1fms %7.1fms %7.2f | %7.1fms %7.1fms"
              + " %7.2f | %7d B | %8.2f/VM %8.2f/VM %7.2f%n",
          vms,
          base.seconds(),
          op.seconds(),
          op.seconds() / base.seconds(),
          vms / base.seconds(),
          vms / op.seconds(),
          (vms / op.seconds()) / (vms / base.seconds()),
          ms(base.percentile(50)),
          ms(op.percentile(50)),
          (double) op.percentile(50) / base.percentile(50),
          ms(base.percentile(99)),
          ms(op.percentile(99)),
          (double) op.percentile(99) / base.percentile(99),
          op.heapPerVm(),
          base.serverCpuMsPerVm(vms),
          op.serverCpuMsPerVm(vms),
          op.serverCpuMsPerVm(vms) / base.serverCpuMsPerVm(vms));
      if (!op.problems().isEmpty()) {
        ok = false;
        System.out.printf(
            "  %d PROBLEMS, first: %s%n",
            op.problems().size(), op.problems().subList(0, Math.min(5, op.problems().size())));
      } else {
        System.out.printf(
            "  checked: all %d bound exactly once, none bound twice, no node overcommitted%n", vms);
      }
      if (vms >= 10_000) {
        boolean met = op.seconds() * 10_000 / vms <= TARGET_10K.toSeconds();
        System.out.printf(
            "  target 10,000 in < %ds: %s%n", TARGET_10K.toSeconds(), met ? "met" : "MISSED");
      }
    }
    int cacheVms = Integer.getInteger("bench.cacheVms", 0);
    if (cacheVms > 0) {
      CacheHeapBench.run(cacheVms);
    }
    System.exit(ok ? 0 : 1);
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  /**
   * One measurement: total seconds, sorted per-VM latencies, heap per VM, the API server's and
   * etcd's CPU time meanwhile, problems found.
   */
  private record Run(
      double seconds,
      long[] latencies,
      long heapPerVm,
      long serverCpuNanos,
      List<String> problems) {
    double serverCpuMsPerVm(int vms) {
      return serverCpuNanos / 1e6 / vms;
    }

    long percentile(int p) {
      int i = (int) Math.min(latencies.length - 1, Math.ceil(p / 100.0 * latencies.length) - 1);
      return latencies[Math.max(0, i)];
    }
  }

  /** A fresh control plane with Hearth's CRDs and the namespaces the bench writes to. */
  static ControlPlane server() throws IOException {
    ControlPlane plane = ControlPlane.start(Files.createTempDirectory("hearth-binding-bench-"));
    plane.installCrds(ControlPlane.repository().resolve("crds/yaml"));
    for (String ns : List.of(Fixtures.NS, HearthApi.DEFAULT_LEASE_NAMESPACE)) {
      plane
          .client()
          .namespaces()
          .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
          .createOr(r -> r.update());
    }
    return plane;
  }

  /** The operator's three writes per VM, straight through the client, no scheduling. */
  private static Run baseline(int vms) throws Exception {
    try (ControlPlane server = server();
        KubernetesClient client = server.newClient()) {
      long[] latencies = new long[vms];
      ServerCpu serverCpu = ServerCpu.of(server);
      long cpuBefore = serverCpu.nanos();
      long start = System.nanoTime();
      parallel(
          vms,
          i -> {
            long t0 = System.nanoTime();
            MicroVM vm =
                client
                    .resource(Fixtures.vm(Fixtures.NS, "vm-" + i, VM_VCPUS, VM_MEMORY_MIB))
                    .create();
            String node = "node-" + (i % NODES);
            MicroVMStatus s = new MicroVMStatus();
            s.setNodeName(node);
            MicroVM bound = new StatusPatch(client).apply(vm, s);
            client
                .resource(bound)
                .patch(
                    MetadataPatches.jsonPatch(StatusApply.OPERATOR),
                    MetadataPatches.bindMetadata(bound, node));
            latencies[i] = System.nanoTime() - t0;
          });
      double seconds = (System.nanoTime() - start) / 1e9;
      long cpu = serverCpu.nanos() - cpuBefore;
      Arrays.sort(latencies);
      return new Run(seconds, latencies, 0, cpu, List.of());
    }
  }

  private static Run withOperator(int vms) throws Exception {
    try (ControlPlane server = server();
        KubernetesClient client = server.newClient();
        KubernetesClient operatorClient = server.newClient()) {
      Clock clock = Clock.systemUTC();
      int perNode = (vms + NODES - 1) / NODES;
      var footprint = SCHEDULER.footprint(VM_VCPUS, VM_MEMORY_MIB);
      for (int i = 0; i < NODES; i++) {
        Fixtures.node(
            client,
            clock,
            HearthApi.DEFAULT_LEASE_NAMESPACE,
            "node-" + i,
            (int) (perNode * footprint.vcpus()),
            perNode * footprint.memoryMiB(),
            java.util.Map.of(),
            List.of());
      }
      // Leases that outlast the run: the mock server answers slowly with thousands of objects
      // in it, and renewals that fall behind would make nodes NotReady mid-run. Node health is
      // not what this measures.
      for (int i = 0; i < NODES; i++) {
        Fixtures.renewLease(
            client, clock, HearthApi.DEFAULT_LEASE_NAMESPACE, "node-" + i, LEASE_SECONDS);
      }
      OperatorConfig config =
          OperatorConfig.defaults()
              .withLeaderElection(false)
              .withMetricsPort(0)
              .withScheduler(SCHEDULER)
              .withTimings(
                  Duration.ofSeconds(LEASE_SECONDS),
                  Duration.ofSeconds(10),
                  Duration.ofSeconds(10));
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      HearthOperator operator = new HearthOperator(operatorClient, config, clock, registry);
      operator.start();
      boolean stopped = false;
      try (BindingAudit audit = new BindingAudit(client, Fixtures.NS)) {
        // Start the clock once the operator has judged every node Ready from its Lease.
        while (readyNodes(client) < NODES) {
          Thread.sleep(50);
        }
        long heapBefore = usedHeap();
        ServerCpu serverCpu = ServerCpu.of(server);
        long cpuBefore = serverCpu.nanos();
        long start = System.nanoTime();
        parallel(
            vms,
            i -> {
              String name = "vm-" + i;
              audit.creating(name);
              client.resource(Fixtures.vm(Fixtures.NS, name, VM_VCPUS, VM_MEMORY_MIB)).create();
            });
        while (audit.boundCount() < vms) {
          Thread.sleep(20);
          if (Duration.ofNanos(System.nanoTime() - start).toMinutes() > 30) {
            throw new IllegalStateException(
                "only " + audit.boundCount() + " of " + vms + " bound within 30 minutes");
          }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long cpu = serverCpu.nanos() - cpuBefore;
        List<String> problems = new ArrayList<>(audit.problems(client, Fixtures.NS, SCHEDULER));
        double binds =
            registry.get("hearth.scheduling.attempts").tag("result", "bound").counter().count();
        if (binds != vms) {
          problems.add("the operator wrote " + (long) binds + " binds for " + vms + " VMs");
        }
        double moved = registry.get("hearth.node.lost.rescheduled").counter().count();
        if (moved > 0) {
          problems.add(
              (long) moved + " VMs moved off nodes judged lost (the run outlasted the Leases)");
        }
        long heapWith = usedHeap();
        operator.close();
        stopped = true;
        long heapWithout = usedHeap();
        // What stopping the operator frees, less what it held with no VMs, per VM.
        long perVm =
            Math.max(0, (heapWith - heapWithout) - Math.max(0, heapBefore - heapWithout)) / vms;
        return new Run(seconds, audit.latencies(), perVm, cpu, problems);
      } finally {
        if (!stopped) {
          operator.close();
        }
      }
    }
  }

  private static long readyNodes(KubernetesClient client) {
    return client.resources(MicroVMNode.class).list().getItems().stream()
        .filter(
            n ->
                n.getStatus() != null
                    && n.getStatus()
                        .condition(HearthApi.Conditions.READY)
                        .map(c -> HearthApi.Conditions.TRUE.equals(c.getStatus()))
                        .orElse(false))
        .count();
  }

  interface Job {
    void run(int i) throws Exception;
  }

  static void parallel(int n, Job job) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int k = i;
        futures.add(
            pool.submit(
                () -> {
                  job.run(k);
                  return null;
                }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
  }

  static long usedHeap() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
    Runtime rt = Runtime.getRuntime();
    return rt.totalMemory() - rt.freeMemory();
  }
}
