package dev.hearth.agent.metrics;

import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The agent's Prometheus metrics: VMs by phase, boot times, and the per-VM meters the VM layer
 * feeds through {@link VmMeters}. Other parts (the image cache) register on {@link #registry()}.
 */
public final class AgentMetrics {
  /** The phases a VM on this node can be in, each always exported (0 when empty). */
  public static final List<String> PHASES =
      Arrays.stream(MicroVMPhase.values()).map(Enum::name).toList();

  private final PrometheusMeterRegistry registry;
  private final ConcurrentMap<String, String> phaseByVm = new ConcurrentHashMap<>();
  private final Timer bootTime;

  public AgentMetrics() {
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    for (String phase : PHASES) {
      Gauge.builder("hearth.vms", phaseByVm, m -> count(m, phase))
          .description("MicroVMs on this node by phase")
          .tag("phase", phase)
          .register(registry);
    }
    this.bootTime =
        Timer.builder("hearth.vm.boot")
            .description("Time from VM start to the guest's boot-complete signal")
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1))
            .maximumExpectedValue(Duration.ofMinutes(5))
            .register(registry);
  }

  /**
   * Gauges of {@code runtime}'s VMM processes: how many run, and the most VMs one of them holds
   * (both 0 when VMs run in the agent's JVM).
   */
  public void vmmProcesses(VmRuntime runtime) {
    Gauge.builder("hearth.vmm.processes", runtime, r -> r.vmsPerVmmProcess().size())
        .description("VMM processes (child JVMs running this node's VMs) alive")
        .register(registry);
    Gauge.builder(
            "hearth.vmm.process.vms.max",
            runtime,
            r -> r.vmsPerVmmProcess().stream().mapToInt(Integer::intValue).max().orElse(0))
        .description("The most VMs one VMM process holds or is starting")
        .register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** The Prometheus text exposition of every meter. */
  public String scrape() {
    return registry.scrape();
  }

  public void phase(String namespace, String name, String phase) {
    phaseByVm.put(namespace + "/" + name, phase);
  }

  public void forget(String namespace, String name) {
    phaseByVm.remove(namespace + "/" + name);
  }

  public void bootTime(Duration d) {
    bootTime.record(d);
  }

  /** Meters for one VM; {@link PerVm#close()} removes its series when the VM goes. */
  public PerVm vm(String namespace, String name) {
    return new PerVm(Tags.of("namespace", namespace, "name", name));
  }

  private static double count(Map<String, String> phases, String phase) {
    return phases.values().stream().filter(phase::equals).count();
  }

  /** The Micrometer-backed {@link VmMeters} of one VM. */
  public final class PerVm implements VmMeters, AutoCloseable {
    private final Tags tags;
    private final ConcurrentMap<List<String>, Counter> counters = new ConcurrentHashMap<>();

    private PerVm(Tags tags) {
      this.tags = tags;
    }

    @Override
    public void vcpuExits(int vcpu, long count) {
      counter("hearth.vm.vcpu.exits", "KVM_RUN exits", "vcpu", Integer.toString(vcpu))
          .increment(count);
    }

    @Override
    public void blockBytes(String drive, BlockOp op, long bytes) {
      counter("hearth.vm.block", "Block device bytes", "drive", drive, "op", lower(op))
          .increment(bytes);
    }

    @Override
    public void netBytes(String iface, NetDirection direction, long bytes) {
      counter("hearth.vm.net", "Network bytes", "iface", iface, "direction", lower(direction))
          .increment(bytes);
    }

    @Override
    public void throttled(String device, String bucket, long count) {
      counter(
              "hearth.vm.ratelimiter.throttled",
              "Requests a rate limiter held back",
              "device",
              device,
              "bucket",
              bucket)
          .increment(count);
    }

    @Override
    public void close() {
      for (Meter m : counters.values()) {
        registry.remove(m);
      }
      counters.clear();
    }

    private Counter counter(String name, String description, String... tagPairs) {
      List<String> key = new java.util.ArrayList<>(List.of(tagPairs));
      key.addFirst(name);
      return counters.computeIfAbsent(
          key,
          k -> {
            Counter.Builder b =
                Counter.builder(name).description(description).tags(tags).tags(tagPairs);
            if (!name.endsWith("exits") && !name.endsWith("throttled")) {
              b.baseUnit("bytes");
            }
            return b.register(registry);
          });
    }

    private static String lower(Enum<?> e) {
      return e.name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
