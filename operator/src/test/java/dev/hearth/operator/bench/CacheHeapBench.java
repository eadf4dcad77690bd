package dev.hearth.operator.bench;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.operator.Fixtures;
import dev.hearth.operator.HearthOperator;
import dev.hearth.operator.OperatorConfig;
import dev.hearth.testkit.ControlPlane;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.Set;

/**
 * The operator's heap per MicroVM in its cache: N MicroVMs on a real API server, and an operator
 * replica that stays standby because another holds the leader Lease, so it fills its informer
 * caches and writes nothing. The heap it holds (after GC, with it running, less after it stopped)
 * per VM is what each VM costs the operator at rest. Run by {@link BindingBench} with {@code
 * -Dbench.cacheVms=100000}.
 */
final class CacheHeapBench {
  private CacheHeapBench() {}

  static void run(int vms) throws Exception {
    try (ControlPlane server = BindingBench.server();
        KubernetesClient client = server.newClient();
        KubernetesClient operatorClient = server.newClient()) {
      String leaseNs = HearthApi.DEFAULT_LEASE_NAMESPACE;
      client
          .resource(
              new LeaseBuilder()
                  .withNewMetadata()
                  .withName(HearthApi.OPERATOR_LEADER_LEASE)
                  .withNamespace(leaseNs)
                  .endMetadata()
                  .withNewSpec()
                  .withHolderIdentity("another-replica")
                  .withLeaseDurationSeconds(3600)
                  .withRenewTime(Clock.systemUTC().instant().atZone(ZoneOffset.UTC))
                  .endSpec()
                  .build())
          .create();
      long t0 = System.nanoTime();
      BindingBench.parallel(
          vms,
          i ->
              client
                  .resource(
                      Fixtures.vm(
                          Fixtures.NS,
                          "vm-" + i,
                          BindingBench.VM_VCPUS,
                          BindingBench.VM_MEMORY_MIB))
                  .create());
      double createSeconds = (System.nanoTime() - t0) / 1e9;
      OperatorConfig d = OperatorConfig.defaults();
      OperatorConfig config =
          new OperatorConfig(
              Set.of(Fixtures.NS),
              leaseNs,
              d.scheduler(),
              d.nodeGracePeriod(),
              d.pendingRetry(),
              d.nodeRecheck(),
              true,
              leaseNs,
              d.reconcileThreads(),
              0);
      long before = BindingBench.usedHeap();
      long s0 = System.nanoTime();
      HearthOperator operator =
          new HearthOperator(operatorClient, config, Clock.systemUTC(), new SimpleMeterRegistry());
      operator.start();
      while (!operator.readinessProblems().isEmpty()) {
        Thread.sleep(50);
      }
      double syncSeconds = (System.nanoTime() - s0) / 1e9;
      long with = BindingBench.usedHeap();
      operator.close();
      long after = BindingBench.usedHeap();
      System.out.printf(
          "%nOperator heap with %d MicroVMs in its cache (standby replica, real API server):%n"
              + "  created in %.1f s (%.0f/s, %d writers); caches synced in %.1f s%n"
              + "  heap %d MiB before the operator, %d MiB with it, %d MiB after it stopped%n"
              + "  per VM: %d B (with - before), %d B (with - after)%n",
          vms,
          createSeconds,
          vms / createSeconds,
          BindingBench.WRITERS,
          syncSeconds,
          before >> 20,
          with >> 20,
          after >> 20,
          (with - before) / vms,
          (with - after) / vms);
    }
  }
}
