package dev.hearth.vmm.devices.virtio.net;

import dev.hearth.vmm.ratelimit.RateLimiterState;

/**
 * A {@link VirtioNet}'s state beyond its transport and queues: its two rate limiters. A frame read
 * from the tap but not yet given to the guest is not kept: it is lost, as on any network.
 */
public record NetState(RateLimiterState rx, RateLimiterState tx) {}
