package dev.hearth.agent.image;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Hears how far an OCI pull has got: the compressed bytes of its layers downloaded, of their total
 * (the sizes the manifest declares). Called on the pulling thread, once per chunk read.
 */
@FunctionalInterface
public interface PullProgress {
  /** Hears nothing. */
  PullProgress NONE = (image, doneBytes, totalBytes) -> {};

  /** {@code doneBytes} of {@code totalBytes} of {@code image}'s layers are on the node. */
  void update(String image, long doneBytes, long totalBytes);

  /**
   * Passes updates on to {@code target} at most once per {@code every} (by {@code nanos}, a
   * monotonic clock), the first one {@code every} after this is made: a pull shorter than that
   * writes nothing, a long one a bounded number of times.
   */
  static PullProgress throttled(Duration every, LongSupplier nanos, PullProgress target) {
    long interval = every.toNanos();
    long[] last = {nanos.getAsLong()};
    return (image, done, total) -> {
      long now = nanos.getAsLong();
      if (now - last[0] >= interval) {
        last[0] = now;
        target.update(image, done, total);
      }
    };
  }
}
