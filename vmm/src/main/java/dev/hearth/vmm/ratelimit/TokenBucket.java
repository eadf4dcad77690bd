package dev.hearth.vmm.ratelimit;

import java.math.BigInteger;

/**
 * The live state of one enabled token bucket, with Firecracker's semantics: the budget starts full;
 * a one-time burst is spent first and never refills; the budget refills continuously at {@code
 * size} tokens per {@code refillTime}, up to {@code size}; and a request larger than the whole
 * bucket is let through once, emptying the bucket and reporting how many bucket-fulls it overdrew.
 * Not thread-safe: its {@link RateLimiter} guards it.
 */
final class TokenBucket {

  /** What a {@link #reduce} did. */
  sealed interface Reduction {}

  /** The tokens were taken. */
  record Success() implements Reduction {}

  /** Not enough tokens; nothing was taken. {@code waitNanos}: until enough will have refilled. */
  record Failure(long waitNanos) implements Reduction {}

  /** Taken, but more than the bucket holds: the caller must wait {@code waitNanos} before more. */
  record OverConsumption(long waitNanos) implements Reduction {}

  private static final Success SUCCESS = new Success();

  private final TokenBucketConfig config;
  private final long refillTimeNanos;
  // size / refillTimeNanos, reduced by their gcd so the products below stay small.
  private final long capacityPerPeriod;
  private final long period;
  private final Clock clock;

  private long budget;
  private long oneTimeBurst;
  private long lastUpdate;

  TokenBucket(TokenBucketConfig config, Clock clock) {
    if (!config.enabled()) {
      throw new RateLimitException("a disabled bucket has no state: " + config);
    }
    this.config = config;
    this.clock = clock;
    this.refillTimeNanos = config.refillTimeMillis() * 1_000_000L;
    long gcd = gcd(config.size(), refillTimeNanos);
    this.capacityPerPeriod = config.size() / gcd;
    this.period = refillTimeNanos / gcd;
    this.budget = config.size();
    this.oneTimeBurst = config.oneTimeBurst();
    this.lastUpdate = clock.nanoTime();
  }

  TokenBucketConfig config() {
    return config;
  }

  long budget() {
    return budget;
  }

  long oneTimeBurst() {
    return oneTimeBurst;
  }

  /** Sets the budget and burst left (each within the config's), refilling from now. */
  void restore(long budget, long oneTimeBurst) {
    this.budget = Math.clamp(budget, 0, config.size());
    this.oneTimeBurst = Math.clamp(oneTimeBurst, 0, config.oneTimeBurst());
    this.lastUpdate = clock.nanoTime();
  }

  /** Takes {@code tokens} if it can. */
  Reduction reduce(long tokens) {
    if (tokens < 0) {
      throw new RateLimitException("cannot take a negative number of tokens: " + tokens);
    }
    if (oneTimeBurst > 0) {
      if (oneTimeBurst >= tokens) {
        oneTimeBurst -= tokens;
        // Refill only starts counting once the burst is spent.
        lastUpdate = clock.nanoTime();
        return SUCCESS;
      }
      tokens -= oneTimeBurst;
      oneTimeBurst = 0;
    }
    if (tokens > budget) {
      autoReplenish();
      if (tokens > config.size()) {
        // Let the oversize request through, but make the caller wait as long as it overdrew.
        long overdraw = tokens - budget;
        budget = 0;
        return new OverConsumption(nanosFor(overdraw));
      }
      if (tokens > budget) {
        return new Failure(nanosUntil(tokens));
      }
    }
    budget -= tokens;
    return SUCCESS;
  }

  /** Gives back tokens a request took but did not use (Firecracker's manual replenish). */
  void replenish(long tokens) {
    if (tokens <= 0) {
      return;
    }
    if (oneTimeBurst > 0) {
      oneTimeBurst = Math.min(saturatingAdd(oneTimeBurst, tokens), config.oneTimeBurst());
      return;
    }
    budget = Math.min(saturatingAdd(budget, tokens), config.size());
  }

  private void autoReplenish() {
    long now = clock.nanoTime();
    long delta = now - lastUpdate;
    if (delta <= 0) {
      return;
    }
    if (delta >= refillTimeNanos) {
      budget = config.size();
      lastUpdate = now;
      return;
    }
    long tokens = mulDiv(delta, capacityPerPeriod, period);
    // Advance only by the time those whole tokens took, so frequent calls do not lose fractions.
    lastUpdate += mulDiv(tokens, period, capacityPerPeriod);
    budget = Math.min(saturatingAdd(budget, tokens), config.size());
  }

  /** Nanoseconds from now until the budget reaches {@code tokens} (at most {@code size}). */
  private long nanosUntil(long tokens) {
    long missing = tokens - budget;
    long sinceUpdate = clock.nanoTime() - lastUpdate;
    return Math.max(1, nanosFor(missing) - Math.max(0, sinceUpdate));
  }

  /** Nanoseconds the bucket takes to refill {@code tokens}, rounded up. */
  private long nanosFor(long tokens) {
    BigInteger[] qr =
        BigInteger.valueOf(tokens)
            .multiply(BigInteger.valueOf(period))
            .divideAndRemainder(BigInteger.valueOf(capacityPerPeriod));
    BigInteger ceil = qr[1].signum() == 0 ? qr[0] : qr[0].add(BigInteger.ONE);
    return ceil.bitLength() < 63 ? Math.max(1, ceil.longValue()) : Long.MAX_VALUE;
  }

  private static long mulDiv(long a, long b, long c) {
    long hi = Math.multiplyHigh(a, b);
    long lo = a * b;
    if ((hi == 0 && lo >= 0) || (hi == -1 && lo < 0)) {
      return lo / c;
    }
    return BigInteger.valueOf(a)
        .multiply(BigInteger.valueOf(b))
        .divide(BigInteger.valueOf(c))
        .longValue();
  }

  private static long saturatingAdd(long a, long b) {
    long r = a + b;
    return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
  }

  private static long gcd(long a, long b) {
    while (b != 0) {
      long t = a % b;
      a = b;
      b = t;
    }
    return a;
  }
}
