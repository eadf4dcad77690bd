package dev.hearth.vmm.ratelimit;

import java.util.Objects;

/** What a live update does to one bucket of a running {@link RateLimiter}. */
public sealed interface BucketUpdate {

  /** Leaves the bucket, and its current budget, as it is. */
  BucketUpdate KEEP = new Keep();

  /** Replaces the bucket with a fresh, full one built from {@code config} (disabled if 0). */
  static BucketUpdate set(TokenBucketConfig config) {
    return new Set(config);
  }

  /** Leaves the bucket as it is. */
  record Keep() implements BucketUpdate {}

  /**
   * Replaces the bucket.
   *
   * @param config the new bucket; a disabled config removes the limit
   */
  record Set(TokenBucketConfig config) implements BucketUpdate {
    public Set {
      Objects.requireNonNull(config, "config");
    }
  }
}
