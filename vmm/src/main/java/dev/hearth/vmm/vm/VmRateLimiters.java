package dev.hearth.vmm.vm;

import dev.hearth.vmm.ratelimit.BucketUpdate;
import dev.hearth.vmm.ratelimit.LimiterId;
import dev.hearth.vmm.ratelimit.RateLimiter;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * A VM's device rate limiters ({@link MicroVm#rateLimiters()}), read and changed while it runs:
 * each drive's, rx and tx for each net interface, and the rng's.
 */
public final class VmRateLimiters {
  private final String vmName;
  private final VirtioDeviceSet devices;
  private final BooleanSupplier closed;

  VmRateLimiters(String vmName, VirtioDeviceSet devices, BooleanSupplier closed) {
    this.vmName = vmName;
    this.devices = devices;
    this.closed = closed;
  }

  /** Ids of the VM's rate limiters, for {@link #update} and {@link #config}. */
  public Set<LimiterId> ids() {
    return Set.copyOf(devices.rateLimiterIds());
  }

  /**
   * Changes a device's rate limiter while the VM runs: each bucket is kept ({@link
   * BucketUpdate#KEEP}) or set; a bucket set to a new limit is replaced by a fresh, full one, while
   * one set to the limit it already has keeps its budget. Takes effect with the device's next
   * request; a queue held back by the old limit is retried once it refills.
   *
   * @param limiterId one of {@link #ids()}
   * @throws VmException for an unknown id or a closed VM
   */
  public void update(LimiterId limiterId, BucketUpdate bandwidth, BucketUpdate ops) {
    limiter(limiterId).update(bandwidth, ops);
  }

  /**
   * The limits a device's rate limiter has now.
   *
   * @param limiterId one of {@link #ids()}
   * @throws VmException for an unknown id or a closed VM
   */
  public RateLimiterConfig config(LimiterId limiterId) {
    return limiter(limiterId).config();
  }

  private RateLimiter limiter(LimiterId limiterId) {
    if (closed.getAsBoolean()) {
      throw new VmException("VM " + vmName + " is closed; its rate limiters are gone");
    }
    return devices.rateLimiter(limiterId);
  }
}
