package dev.hearth.agent.spec;

import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.api.v1alpha1.RateLimiterSpec;
import dev.hearth.api.v1alpha1.TokenBucketSpec;
import java.util.Optional;

/**
 * A drive's or interface's {@code rateLimiter} as the VMM's buckets: a bucket of size 0 is none,
 * and each error names the field.
 */
final class RateLimits {
  private RateLimits() {}

  /** The limit {@code r} sets, checked, or none when {@code r} is null or sets no bucket. */
  static Optional<VmLaunch.RateLimit> of(RateLimiterSpec r, String field)
      throws SpecRejectedException {
    if (r == null) {
      return Optional.empty();
    }
    return Optional.of(
        new VmLaunch.RateLimit(
            bucket(r.bandwidth(), field + ".bandwidth"), bucket(r.ops(), field + ".ops")));
  }

  private static Optional<VmLaunch.Bucket> bucket(TokenBucketSpec b, String field)
      throws SpecRejectedException {
    if (b == null) {
      return Optional.empty();
    }
    long size = b.size() == null ? 0 : b.size();
    long refill = b.refillTimeMs() == null ? 0 : b.refillTimeMs();
    long burst = b.oneTimeBurst() == null ? 0 : b.oneTimeBurst();
    if (size < 0 || refill < 0 || burst < 0) {
      throw new SpecRejectedException(
          SpecRejectedException.INVALID,
          field + ": size, refillTimeMs and oneTimeBurst must not be negative");
    }
    if ((size > 0) != (refill > 0)) {
      throw new SpecRejectedException(
          SpecRejectedException.INVALID,
          field + ": size and refillTimeMs must both be set (non-zero) or both be 0");
    }
    if (refill > TokenBucketSpec.MAX_REFILL_TIME_MS) {
      throw new SpecRejectedException(
          SpecRejectedException.INVALID,
          field
              + ".refillTimeMs "
              + refill
              + " is above the VMM's "
              + TokenBucketSpec.MAX_REFILL_TIME_MS);
    }
    if (burst > 0 && size == 0) {
      throw new SpecRejectedException(
          SpecRejectedException.INVALID, field + ": oneTimeBurst requires a non-zero size");
    }
    return size == 0 ? Optional.empty() : Optional.of(new VmLaunch.Bucket(size, refill, burst));
  }
}
