package dev.hearth.vmm.ratelimit;

/** A monotonic clock in nanoseconds. Injected so that rate limiters are tested on a fake clock. */
@FunctionalInterface
public interface Clock {

  /** The system's monotonic clock ({@link System#nanoTime()}). */
  Clock SYSTEM = System::nanoTime;

  /** Nanoseconds since an arbitrary fixed origin; only differences mean anything. */
  long nanoTime();
}
