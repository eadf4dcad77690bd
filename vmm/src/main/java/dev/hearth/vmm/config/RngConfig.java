package dev.hearth.vmm.config;

import dev.hearth.vmm.ratelimit.RateLimiterConfig;

/**
 * A virtio-rng device, fed from the host's strong random source.
 *
 * @param rateLimit bytes and requests the guest may take; {@link RateLimiterConfig#UNLIMITED} for
 *     no limit. Its id for {@code VmRateLimiters.update} is {@value #ID}.
 */
public record RngConfig(RateLimiterConfig rateLimit) {
  /** The rng's device id. */
  public static final String ID = "rng";

  /** An rng without a rate limit. */
  public static final RngConfig UNLIMITED = new RngConfig(RateLimiterConfig.UNLIMITED);

  public RngConfig {
    if (rateLimit == null) {
      rateLimit = RateLimiterConfig.UNLIMITED;
    }
  }
}
