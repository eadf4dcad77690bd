package dev.hearth.vmm.ratelimit;

/**
 * A {@link RateLimiter}'s limits (as updated while the VM ran) and what is left in its buckets, so
 * that a restored guest gets no fresh burst. A disabled bucket's budget and burst are 0.
 */
public record RateLimiterState(
    RateLimiterConfig config,
    long bandwidthBudget,
    long bandwidthBurst,
    long opsBudget,
    long opsBurst) {}
