package dev.hearth.vmm.ratelimit;

/**
 * A one-shot timer that a {@link RateLimiter} arms when it blocks. The VM backs it with a timerfd
 * in its event loop; when it fires, the loop calls the callback that was given to the {@link
 * RefillTimer.Factory}, which calls {@link RateLimiter#onTimerExpired()} and retries the blocked
 * queue.
 */
public interface RefillTimer {

  /** Fires once, {@code delayNanos} (at least 1) from now, replacing any earlier arming. */
  void arm(long delayNanos);

  /** Cancels a pending firing, if any. */
  void disarm();

  /** Makes one timer per rate limiter; the VM's event loop implements it. */
  @FunctionalInterface
  interface Factory {
    /** A timer that runs {@code onExpiry} on the device's event-loop thread when it fires. */
    RefillTimer create(Runnable onExpiry);
  }
}
