package dev.hearth.vmm.ratelimit;

/** A clock that moves only when a test says so. */
public final class FakeClock implements Clock {
  private long now = 1_000_000_000L;

  @Override
  public long nanoTime() {
    return now;
  }

  public void advanceMillis(long millis) {
    now += millis * 1_000_000L;
  }

  public void advanceNanos(long nanos) {
    now += nanos;
  }
}
