package dev.hearth.vmm.bench;

import dev.hearth.vmm.ratelimit.RefillTimer;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/** Refill timers on a single-threaded scheduler that stands in for the VM's event loop. */
final class LoopTimers implements RefillTimer.Factory {
  private final ScheduledExecutorService loop;

  LoopTimers(ScheduledExecutorService loop) {
    this.loop = loop;
  }

  @Override
  public RefillTimer create(Runnable onExpiry) {
    return new RefillTimer() {
      private ScheduledFuture<?> pending;

      @Override
      public void arm(long delayNanos) {
        disarm();
        pending = loop.schedule(onExpiry, delayNanos, TimeUnit.NANOSECONDS);
      }

      @Override
      public void disarm() {
        if (pending != null) {
          pending.cancel(false);
          pending = null;
        }
      }
    };
  }
}
