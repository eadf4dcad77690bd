package dev.hearth.vmm.ratelimit;

/** A rate limiter configuration that cannot be honoured. */
public class RateLimitException extends RuntimeException {
  public RateLimitException(String message) {
    super(message);
  }
}
