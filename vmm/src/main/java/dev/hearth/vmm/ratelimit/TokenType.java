package dev.hearth.vmm.ratelimit;

/** Which bucket of a {@link RateLimiter} a request draws from. */
public enum TokenType {
  /** Bytes transferred. */
  BYTES,
  /** Operations (requests, frames). */
  OPS
}
