package dev.hearth.vmm.ratelimit;

/** Records how it was armed; a test fires it by hand. */
public final class FakeRefillTimer implements RefillTimer {
  private final Runnable onExpiry;
  private long armedDelayNanos = -1;
  private int armCount;

  public FakeRefillTimer(Runnable onExpiry) {
    this.onExpiry = onExpiry;
  }

  /** A factory whose timers are kept for the test to fire. */
  public static final class Factory implements RefillTimer.Factory {
    public final java.util.List<FakeRefillTimer> timers = new java.util.ArrayList<>();

    @Override
    public RefillTimer create(Runnable onExpiry) {
      FakeRefillTimer t = new FakeRefillTimer(onExpiry);
      timers.add(t);
      return t;
    }
  }

  @Override
  public void arm(long delayNanos) {
    armedDelayNanos = delayNanos;
    armCount++;
  }

  @Override
  public void disarm() {
    armedDelayNanos = -1;
  }

  public boolean armed() {
    return armedDelayNanos >= 0;
  }

  public long armedDelayNanos() {
    return armedDelayNanos;
  }

  public int armCount() {
    return armCount;
  }

  /** Fires the timer as the event loop would, if it is armed. */
  public void fire() {
    if (armedDelayNanos >= 0) {
      armedDelayNanos = -1;
      onExpiry.run();
    }
  }
}
