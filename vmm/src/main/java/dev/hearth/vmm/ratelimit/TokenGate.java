package dev.hearth.vmm.ratelimit;

/**
 * A token bucket that only says yes or no, one token at a time, for limits that need no timer (the
 * rate of a VM's device log lines, say). Thread-safe.
 */
public final class TokenGate {
  private final TokenBucket bucket;

  /**
   * @param config an enabled bucket: {@code size} tokens at once, refilled over {@code
   *     refillTimeMillis}
   * @throws RateLimitException if the bucket is disabled
   */
  public TokenGate(TokenBucketConfig config, Clock clock) {
    this.bucket = new TokenBucket(config, clock);
  }

  /** Takes a token if one is there. */
  public synchronized boolean tryTake() {
    return bucket.reduce(1) instanceof TokenBucket.Success;
  }
}
