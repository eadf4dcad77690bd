package dev.hearth.operator.bench;

import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import dev.hearth.operator.Fixtures;
import dev.hearth.operator.HearthOperator;
import dev.hearth.operator.OperatorConfig;
import dev.hearth.operator.scheduling.SchedulerConfig;
import dev.hearth.operator.scheduling.SchedulingStrategy;
import dev.hearth.operator.support.StatusPatch;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Time to bind N MicroVMs on 100 fake nodes, and the operator's heap per VM, against the fabric8
 * mock API server in this JVM. Baseline, measured in the same run: the bare API work one bind needs
 * (create + one status patch per VM, no scheduler), so the ratio shows what the operator adds on
 * top of the API server's own cost. Not run by verify:
 *
 * <pre>./mvnw -pl operator -am -Pbench verify -DskipTests [-Dbench.vms=1000,10000]</pre>
 */
public final class BindingBench {
  private static final int NODES = 100;
  private static final int WRITERS = 16;

  public static void main(String[] args) throws Exception {
    String spec = System.getProperty("bench.vms", "1000,10000");
    System.out.printf(
        "%8s %12s %12s %8s %14s%n", "VMs", "baseline s", "operator s", "ratio", "heap/VM bytes");
    for (String n : spec.split(",")) {
      int vms = Integer.parseInt(n.trim());
      double baseline = baseline(vms);
      Result r = withOperator(vms);
      System.out.printf(
          "%8d %12.1f %12.1f %8.2f %14d%n",
          vms, baseline, r.seconds, r.seconds / baseline, r.heapPerVm);
    }
    System.exit(0);
  }

  private record Result(double seconds, long heapPerVm) {}

  private static KubernetesMockServer server() {
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(),
            false);
    server.init();
    return server;
  }

  /** Create N VMs and write one status each, straight through the client. */
  private static double baseline(int vms) throws Exception {
    KubernetesMockServer server = server();
    try (KubernetesClient client = server.createClient()) {
      Fixtures.installCrds(client);
      long start = System.nanoTime();
      parallel(
          vms,
          i -> {
            MicroVM vm = client.resource(Fixtures.vm("vm-" + i, 1, 64)).create();
            MicroVMStatus s = new MicroVMStatus();
            s.setNodeName("node-" + (i % NODES));
            StatusPatch.replace(client, vm, s);
          });
      return (System.nanoTime() - start) / 1e9;
    } finally {
      server.destroy();
    }
  }

  private static Result withOperator(int vms) throws Exception {
    KubernetesMockServer server = server();
    try (KubernetesClient client = server.createClient()) {
      Fixtures.installCrds(client);
      Clock clock = Clock.systemUTC();
      for (int i = 0; i < NODES; i++) {
        Fixtures.node(client, clock, "node-" + i, 256, 1 << 22);
      }
      OperatorConfig config =
          OperatorConfig.defaults()
              .withLeaderElection(false)
              .withMetricsPort(0)
              .withScheduler(new SchedulerConfig(SchedulingStrategy.SPREAD, 32, 0));
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      HearthOperator operator = new HearthOperator(client, config, clock, registry);
      operator.start();
      long heapBefore = usedHeap();
      long start = System.nanoTime();
      parallel(vms, i -> client.resource(Fixtures.vm("vm-" + i, 1, 64)).create());
      while (registry.get("hearth.scheduling.attempts").tag("result", "bound").counter().count()
          < vms) {
        Thread.sleep(50);
        if (Duration.ofNanos(System.nanoTime() - start).toMinutes() > 30) {
          throw new IllegalStateException("not all VMs bound within 30 minutes");
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      long heapWith = usedHeap();
      operator.close();
      long heapWithout = usedHeap();
      // What stopping the operator frees, less what it held with no VMs, per VM.
      long perVm =
          Math.max(0, (heapWith - heapWithout) - Math.max(0, heapBefore - heapWithout)) / vms;
      return new Result(seconds, perVm);
    } finally {
      server.destroy();
    }
  }

  private interface Job {
    void run(int i) throws Exception;
  }

  private static void parallel(int n, Job job) throws Exception {
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

  private static long usedHeap() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
    Runtime rt = Runtime.getRuntime();
    return rt.totalMemory() - rt.freeMemory();
  }
}
