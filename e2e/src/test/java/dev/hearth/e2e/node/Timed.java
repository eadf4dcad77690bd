package dev.hearth.e2e.node;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/** How long each step of the node layer took, printed as it ends and summed up at the end. */
final class Timed {
  private static final Map<String, Long> MILLIS = new LinkedHashMap<>();

  private Timed() {}

  /** Runs {@code step}, printing and recording how long it took, even when it fails. */
  static <T> T step(String name, Supplier<T> step) {
    long start = System.nanoTime();
    try {
      return step.get();
    } finally {
      long ms = (System.nanoTime() - start) / 1_000_000;
      synchronized (MILLIS) {
        MILLIS.merge(name, ms, Long::sum);
      }
      System.err.printf("hearth-node: %s took %.1f s%n", name, ms / 1000.0);
    }
  }

  /** Runs {@code step}, timed. */
  static void run(String name, Runnable step) {
    step(
        name,
        () -> {
          step.run();
          return null;
        });
  }

  /** One line with every step's time and the total. */
  static String summary() {
    synchronized (MILLIS) {
      StringBuilder s = new StringBuilder("hearth-node: times:");
      long total = 0;
      for (var e : MILLIS.entrySet()) {
        s.append(String.format(" %s %.1f s;", e.getKey(), e.getValue() / 1000.0));
        total += e.getValue();
      }
      return s.append(String.format(" total %.1f s", total / 1000.0)).toString();
    }
  }
}
