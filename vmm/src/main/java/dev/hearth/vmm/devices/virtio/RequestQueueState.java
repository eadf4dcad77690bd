package dev.hearth.vmm.devices.virtio;

import dev.hearth.vmm.ratelimit.RateLimiterState;

/**
 * The state of a {@link RequestQueueDevice} (virtio-blk, virtio-rng) beyond its transport and
 * queue: its rate limiter. Requests in flight are none: each is served whole on the event loop.
 */
public record RequestQueueState(RateLimiterState limiter) {}
