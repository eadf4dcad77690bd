package dev.hearth.vmm.bench;

import java.util.Arrays;

/**
 * Measures a device path against its baseline in alternating short rounds, so that load from other
 * processes hits both alike, and summarises the rounds by their medians, so that a round another
 * process took the CPU from does not move the result. A round runs one batch after another until
 * its timed work adds up to the round's length; an optional untimed preparation (e.g. putting
 * frames on a tap) comes before each batch.
 */
final class PairedRounds {

  /** One batch of work; returns the units (requests, frames) it moved. */
  @FunctionalInterface
  interface Batch {
    long run() throws Exception;
  }

  /** Untimed work before a batch; returns the units it offered to the batch. */
  @FunctionalInterface
  interface Preparation {
    long run() throws Exception;
  }

  /** Medians over the rounds: units per second of each side, and of the per-round ratio. */
  record Summary(double devicePerSecond, double baselinePerSecond, double ratio) {}

  private final int rounds;
  private final long roundNanos;
  private long shortfall;

  PairedRounds(int rounds, long roundNanos) {
    this.rounds = rounds;
    this.roundNanos = roundNanos;
  }

  /** Units that preparations offered but batches did not move, over every round so far. */
  long shortfall() {
    return shortfall;
  }

  /** Warms both paths up (the JIT included) without measuring. */
  void warmUp(Preparation prep, Batch device, Batch baseline) throws Exception {
    perSecond(prep, device, 4 * roundNanos);
    perSecond(prep, baseline, 2 * roundNanos);
  }

  /** Warms up, then alternates {@code rounds} rounds of each. {@code prep} may be null. */
  Summary compare(Preparation prep, Batch device, Batch baseline) throws Exception {
    warmUp(prep, device, baseline);
    double[] d = new double[rounds];
    double[] b = new double[rounds];
    double[] ratio = new double[rounds];
    for (int i = 0; i < rounds; i++) {
      d[i] = perSecond(prep, device, roundNanos);
      b[i] = perSecond(prep, baseline, roundNanos);
      ratio[i] = d[i] / b[i];
    }
    return new Summary(median(d), median(b), median(ratio));
  }

  private double perSecond(Preparation prep, Batch batch, long nanos) throws Exception {
    long units = 0;
    long timed = 0;
    while (timed < nanos) {
      long offered = prep == null ? -1 : prep.run();
      long start = System.nanoTime();
      long moved = batch.run();
      timed += System.nanoTime() - start;
      units += moved;
      if (offered >= 0) {
        shortfall += offered - moved;
      }
    }
    return units / (timed / 1e9);
  }

  private static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
}
