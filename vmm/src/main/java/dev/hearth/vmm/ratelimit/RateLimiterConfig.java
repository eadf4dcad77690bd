package dev.hearth.vmm.ratelimit;

import java.util.Objects;

/**
 * A rate limiter's two buckets.
 *
 * @param bandwidth bytes per refill period; {@link TokenBucketConfig#DISABLED} for no limit
 * @param ops operations per refill period; {@link TokenBucketConfig#DISABLED} for no limit
 */
public record RateLimiterConfig(TokenBucketConfig bandwidth, TokenBucketConfig ops) {

  /** A limiter that limits nothing. */
  public static final RateLimiterConfig UNLIMITED =
      new RateLimiterConfig(TokenBucketConfig.DISABLED, TokenBucketConfig.DISABLED);

  public RateLimiterConfig {
    Objects.requireNonNull(bandwidth, "bandwidth");
    Objects.requireNonNull(ops, "ops");
  }

  /** Whether either bucket is enabled. */
  public boolean enabled() {
    return bandwidth.enabled() || ops.enabled();
  }
}
