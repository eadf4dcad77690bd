package dev.hearth.operator.support;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;

/**
 * Hearth's own meters; JOSDK's MicrometerMetrics adds reconcile counts and latency per controller
 * on the same registry.
 */
public final class OperatorMetrics {
  private final MeterRegistry registry;
  private final Timer bindLatency;
  private final Counter bound;
  private final Counter unschedulable;
  private final Counter bindConflicts;
  private final Counter vmsRescheduled;
  private final AtomicReference<LongSupplier> pending = new AtomicReference<>(() -> 0);
  private final Set<String> nodesWithGauges = ConcurrentHashMap.newKeySet();
  private volatile ToLongFunction<String> vcpusOnNode = n -> 0;
  private volatile ToLongFunction<String> memoryOnNode = n -> 0;

  public OperatorMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.bindLatency =
        Timer.builder("hearth.scheduling.latency")
            .description("From the start of a scheduling decision to the VM's bound status")
            .publishPercentileHistogram()
            .register(registry);
    this.bound =
        Counter.builder("hearth.scheduling.attempts").tag("result", "bound").register(registry);
    this.unschedulable =
        Counter.builder("hearth.scheduling.attempts")
            .tag("result", "unschedulable")
            .register(registry);
    this.bindConflicts =
        Counter.builder("hearth.scheduling.attempts").tag("result", "conflict").register(registry);
    this.vmsRescheduled =
        Counter.builder("hearth.node.lost.rescheduled")
            .description("VMs moved off lost nodes")
            .register(registry);
    Gauge.builder("hearth.vms.pending", () -> pending.get().getAsLong())
        .description("MicroVMs not bound to a node")
        .register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  public void bound(Duration took) {
    bound.increment();
    bindLatency.record(took);
  }

  public void unschedulable() {
    unschedulable.increment();
  }

  public void bindConflict() {
    bindConflicts.increment();
  }

  public void rescheduled() {
    vmsRescheduled.increment();
  }

  public void pendingFrom(LongSupplier supplier) {
    pending.set(supplier);
  }

  /** Per-node allocation gauges read from these functions. */
  public void allocationFrom(ToLongFunction<String> vcpus, ToLongFunction<String> memoryMiB) {
    this.vcpusOnNode = vcpus;
    this.memoryOnNode = memoryMiB;
  }

  /** Makes sure the per-node allocation gauges exist for this node. */
  public void trackNode(String node) {
    if (nodesWithGauges.add(node)) {
      Gauge.builder("hearth.node.allocated.vcpus", () -> vcpusOnNode.applyAsLong(node))
          .tag("node", node)
          .description("vCPUs allocated to MicroVMs on the node, VMM overhead included")
          .register(registry);
      Gauge.builder("hearth.node.allocated.memory.mib", () -> memoryOnNode.applyAsLong(node))
          .tag("node", node)
          .description("Memory (MiB) allocated to MicroVMs on the node, VMM overhead included")
          .register(registry);
    }
  }
}
