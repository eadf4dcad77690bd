package dev.hearth.vmm.vm;

import dev.hearth.vmm.ratelimit.LimiterId;
import dev.hearth.vmm.ratelimit.RateLimiter;
import java.util.List;
import java.util.Map;

/**
 * A snapshot of what a VM has done since it was made, for metrics. Counters only grow; a reader
 * turns two snapshots into rates or deltas.
 *
 * @param vcpuExits KVM_RUN returns per vCPU, by vCPU index
 * @param limiters per rate limiter ({@link VmRateLimiters#ids()}): requests and bytes let through,
 *     and requests held back per bucket. For a network interface the bytes are its frames' bytes.
 * @param drives per drive id: bytes read and written
 */
public record VmCounters(
    List<Long> vcpuExits,
    Map<LimiterId, RateLimiter.Counters> limiters,
    Map<String, Drive> drives) {

  public VmCounters {
    vcpuExits = List.copyOf(vcpuExits);
    limiters = Map.copyOf(limiters);
    drives = Map.copyOf(drives);
  }

  /** Nothing yet: what a reader compares the first snapshot with. */
  public static final VmCounters NONE = new VmCounters(List.of(), Map.of(), Map.of());

  /** A drive's bytes read and written for the guest. */
  public record Drive(long readBytes, long writeBytes) {}
}
