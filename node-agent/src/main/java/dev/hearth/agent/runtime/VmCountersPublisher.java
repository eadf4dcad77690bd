package dev.hearth.agent.runtime;

import dev.hearth.agent.metrics.VmMeters;
import dev.hearth.agent.metrics.VmMeters.BlockOp;
import dev.hearth.agent.metrics.VmMeters.NetDirection;
import dev.hearth.vmm.ratelimit.LimiterId;
import dev.hearth.vmm.ratelimit.RateLimiter;
import dev.hearth.vmm.vm.VmCounters;
import java.util.List;
import java.util.Map;

/**
 * Feeds a VM's metrics from the VMM's counters, which only grow: each snapshot adds what changed
 * since the previous one. A network interface's limiters (rx and tx) give its bytes; every limiter
 * gives its held-back requests per bucket.
 */
final class VmCountersPublisher {
  private final VmMeters meters;
  private VmCounters last = VmCounters.NONE;

  VmCountersPublisher(VmMeters meters) {
    this.meters = meters;
  }

  /** Adds what {@code now} has beyond the previous snapshot. */
  synchronized void publish(VmCounters now) {
    List<Long> exits = now.vcpuExits();
    for (int i = 0; i < exits.size(); i++) {
      long before = i < last.vcpuExits().size() ? last.vcpuExits().get(i) : 0;
      if (exits.get(i) > before) {
        meters.vcpuExits(i, exits.get(i) - before);
      }
    }
    now.drives()
        .forEach(
            (id, d) -> {
              VmCounters.Drive before = last.drives().getOrDefault(id, new VmCounters.Drive(0, 0));
              add(d.readBytes() - before.readBytes(), n -> meters.blockBytes(id, BlockOp.READ, n));
              add(
                  d.writeBytes() - before.writeBytes(),
                  n -> meters.blockBytes(id, BlockOp.WRITE, n));
            });
    Map<LimiterId, RateLimiter.Counters> limiters = now.limiters();
    limiters.forEach(
        (id, c) -> {
          RateLimiter.Counters before =
              last.limiters().getOrDefault(id, new RateLimiter.Counters(0, 0, 0, 0));
          NetDirection direction =
              switch (id.traffic()) {
                case RX -> NetDirection.RX;
                case TX -> NetDirection.TX;
                case ALL -> null;
              };
          if (direction != null) {
            add(c.bytes() - before.bytes(), n -> meters.netBytes(id.device(), direction, n));
          }
          String label = id.toString();
          add(c.throttledOps() - before.throttledOps(), n -> meters.throttled(label, "ops", n));
          add(
              c.throttledBandwidth() - before.throttledBandwidth(),
              n -> meters.throttled(label, "bandwidth", n));
        });
    last = now;
  }

  private static void add(long delta, java.util.function.LongConsumer sink) {
    if (delta > 0) {
      sink.accept(delta);
    }
  }
}
