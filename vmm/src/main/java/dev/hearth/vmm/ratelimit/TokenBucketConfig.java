package dev.hearth.vmm.ratelimit;

/**
 * One token bucket, as Firecracker configures it.
 *
 * @param size tokens the bucket holds when full; 0 disables the bucket
 * @param oneTimeBurst extra tokens available once, at the start, that are never refilled
 * @param refillTimeMillis milliseconds to refill an empty bucket completely; 0 disables the bucket
 */
public record TokenBucketConfig(long size, long oneTimeBurst, long refillTimeMillis) {

  /** A bucket that limits nothing. */
  public static final TokenBucketConfig DISABLED = new TokenBucketConfig(0, 0, 0);

  /** Refill times above this (about 106 days) would overflow nanosecond arithmetic. */
  public static final long MAX_REFILL_TIME_MILLIS = Long.MAX_VALUE / 1_000_000 / 1000;

  public TokenBucketConfig {
    if (size < 0 || oneTimeBurst < 0 || refillTimeMillis < 0) {
      throw new RateLimitException(
          "token bucket values must not be negative: size="
              + size
              + " oneTimeBurst="
              + oneTimeBurst
              + " refillTimeMillis="
              + refillTimeMillis);
    }
    if (refillTimeMillis > MAX_REFILL_TIME_MILLIS) {
      throw new RateLimitException(
          "refillTimeMillis " + refillTimeMillis + " exceeds " + MAX_REFILL_TIME_MILLIS);
    }
  }

  /** Whether this bucket limits anything: a size or refill time of 0 disables it. */
  public boolean enabled() {
    return size > 0 && refillTimeMillis > 0;
  }

  /**
   * Whether {@code other} sets the same limit: equal values, or both disabled (however they were
   * written). A live update that sets the same limit leaves the bucket, and its budget, alone.
   */
  public boolean sameLimitAs(TokenBucketConfig other) {
    return equals(other) || (!enabled() && !other.enabled());
  }
}
