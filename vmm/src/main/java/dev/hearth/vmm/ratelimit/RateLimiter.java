package dev.hearth.vmm.ratelimit;

import dev.hearth.vmm.snapshot.Snapshottable;
import java.util.Objects;

/**
 * Firecracker's rate limiter: a bandwidth bucket and an ops bucket, either of which may be
 * disabled. A device asks {@link #consume} before each request. When a bucket runs dry the limiter
 * blocks: it arms its {@link RefillTimer} for the moment enough tokens will have refilled, and
 * refuses every request until the timer has fired and {@link #onTimerExpired()} was called. A
 * request larger than a whole bucket is let through once and blocks the limiter for as long as it
 * overdrew.
 *
 * <p>Thread-safe: a device consumes on its event-loop thread while the agent may {@link #update}
 * the buckets at any time.
 */
public final class RateLimiter implements Snapshottable<RateLimiterState> {
  private final Clock clock;
  private final RefillTimer timer;
  private TokenBucket bandwidth;
  private TokenBucket ops;
  private boolean blocked;
  private TokenType blockedOn = TokenType.OPS;
  private long requests;
  private long bytes;
  private long throttledOps;
  private long throttledBandwidth;

  /**
   * What went through a limiter since it was made, for metrics.
   *
   * @param requests requests let through ({@link #consumeRequest})
   * @param bytes their bytes
   * @param throttledOps requests held back by the ops bucket
   * @param throttledBandwidth requests held back by the bandwidth bucket
   */
  public record Counters(long requests, long bytes, long throttledOps, long throttledBandwidth) {}

  /**
   * A limiter with {@code config}'s buckets.
   *
   * @param timer armed when the limiter blocks; the device retries when it fires
   */
  public RateLimiter(RateLimiterConfig config, Clock clock, RefillTimer timer) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.timer = Objects.requireNonNull(timer, "timer");
    this.bandwidth = bucket(config.bandwidth());
    this.ops = bucket(config.ops());
  }

  /**
   * Takes {@code tokens} from the {@code type} bucket. Returns false, taking nothing, when the
   * limiter is blocked or the bucket lacks them; the device then leaves the request queued until
   * its refill timer fires.
   */
  public synchronized boolean consume(long tokens, TokenType type) {
    if (blocked) {
      return false;
    }
    TokenBucket bucket = type == TokenType.BYTES ? bandwidth : ops;
    if (bucket == null) {
      return true;
    }
    return switch (bucket.reduce(tokens)) {
      case TokenBucket.Success s -> true;
      case TokenBucket.Failure f -> {
        block(type, f.waitNanos());
        yield false;
      }
      case TokenBucket.OverConsumption o -> {
        block(type, o.waitNanos());
        yield true;
      }
    };
  }

  /**
   * Takes what one request costs: one op and {@code bytes} bytes, or neither. When the bytes are
   * refused, the op taken for them is given back; the device leaves the request queued.
   */
  public synchronized boolean consumeRequest(long bytes) {
    if (!consume(1, TokenType.OPS)) {
      countThrottled();
      return false;
    }
    if (bytes > 0 && !consume(bytes, TokenType.BYTES)) {
      replenish(1, TokenType.OPS);
      countThrottled();
      return false;
    }
    requests++;
    this.bytes += bytes;
    return true;
  }

  /** What went through, and what was held back, so far. */
  public synchronized Counters counters() {
    return new Counters(requests, bytes, throttledOps, throttledBandwidth);
  }

  // A refused request counts against the bucket that blocked the limiter.
  private void countThrottled() {
    if (blockedOn == TokenType.BYTES) {
      throttledBandwidth++;
    } else {
      throttledOps++;
    }
  }

  /**
   * Gives back {@code tokens} to the {@code type} bucket, e.g. the op a request took before its
   * bytes were refused.
   */
  public synchronized void replenish(long tokens, TokenType type) {
    TokenBucket bucket = type == TokenType.BYTES ? bandwidth : ops;
    if (bucket != null) {
      bucket.replenish(tokens);
    }
  }

  /** Whether requests are refused until the refill timer fires. */
  public synchronized boolean isBlocked() {
    return blocked;
  }

  /** The refill timer fired: requests may be tried again. */
  public synchronized void onTimerExpired() {
    blocked = false;
  }

  /**
   * Updates the buckets while the device runs, as Firecracker does: only a bucket whose limit
   * changes is replaced, and starts full; a kept bucket, or one set to the limit it already has,
   * keeps its budget, so re-applying the same limits gives the guest no fresh burst. A blocked
   * limiter stays blocked until its timer fires; when no bucket is left enabled, the timer is
   * re-armed to fire at once, so held-back requests go through.
   */
  public synchronized void update(BucketUpdate bandwidthUpdate, BucketUpdate opsUpdate) {
    bandwidth = updated(bandwidth, bandwidthUpdate);
    ops = updated(ops, opsUpdate);
    if (blocked && bandwidth == null && ops == null) {
      // Nothing limits any more: fire at once so the device retries what it held back.
      timer.arm(1);
    }
  }

  /** The current configuration of both buckets. */
  public synchronized RateLimiterConfig config() {
    return new RateLimiterConfig(
        bandwidth == null ? TokenBucketConfig.DISABLED : bandwidth.config(),
        ops == null ? TokenBucketConfig.DISABLED : ops.config());
  }

  /** Tokens left in the {@code type} bucket's budget (plus burst), or -1 when it is disabled. */
  public synchronized long available(TokenType type) {
    TokenBucket bucket = type == TokenType.BYTES ? bandwidth : ops;
    return bucket == null ? -1 : bucket.budget() + bucket.oneTimeBurst();
  }

  @Override
  public synchronized RateLimiterState saveState() {
    return new RateLimiterState(
        config(),
        bandwidth == null ? 0 : bandwidth.budget(),
        bandwidth == null ? 0 : bandwidth.oneTimeBurst(),
        ops == null ? 0 : ops.budget(),
        ops == null ? 0 : ops.oneTimeBurst());
  }

  /**
   * Takes back the limits and budgets; refill counts from now. A limiter that was blocked is not:
   * the restored device retries its queue at once and blocks again if the budget is short.
   */
  @Override
  public synchronized void restoreState(RateLimiterState s) {
    bandwidth = bucket(s.config().bandwidth());
    ops = bucket(s.config().ops());
    if (bandwidth != null) {
      bandwidth.restore(s.bandwidthBudget(), s.bandwidthBurst());
    }
    if (ops != null) {
      ops.restore(s.opsBudget(), s.opsBurst());
    }
    blocked = false;
  }

  private void block(TokenType on, long waitNanos) {
    blocked = true;
    blockedOn = on;
    timer.arm(Math.max(1, waitNanos));
  }

  private TokenBucket updated(TokenBucket current, BucketUpdate update) {
    if (!(update instanceof BucketUpdate.Set(TokenBucketConfig next))) {
      return current;
    }
    TokenBucketConfig now = current == null ? TokenBucketConfig.DISABLED : current.config();
    return now.sameLimitAs(next) ? current : bucket(next);
  }

  private TokenBucket bucket(TokenBucketConfig config) {
    return config.enabled() ? new TokenBucket(config, clock) : null;
  }
}
