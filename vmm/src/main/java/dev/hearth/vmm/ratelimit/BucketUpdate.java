package dev.hearth.vmm.ratelimit;

import java.util.Objects;

/** What a live update does to one bucket of a running {@link RateLimiter}. */
public sealed interface BucketUpdate {

  /** Leaves the bucket, and its current budget, as it is. */
  BucketUpdate KEEP = new Keep();

  /**
   * Sets the bucket to {@code config} (disabled if 0). When the bucket already has that limit
   * ({@link TokenBucketConfig#sameLimitAs}) it is kept with its budget, as Firecracker does;
   * otherwise it is replaced by a fresh, full one.
   */
  static BucketUpdate set(TokenBucketConfig config) {
    return new Set(config);
  }

  /** Leaves the bucket as it is. */
  record Keep() implements BucketUpdate {}

  /**
   * Sets the bucket: replaces it with a fresh, full one unless it already has this limit.
   *
   * @param config the new bucket; a disabled config removes the limit
   */
  record Set(TokenBucketConfig config) implements BucketUpdate {
    public Set {
      Objects.requireNonNull(config, "config");
    }
  }
}
