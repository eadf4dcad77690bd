package dev.hearth.agent.reconcile;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time per key (a VM), different keys in parallel, each on a virtual thread. A
 * VM's events are thus handled in order without one slow boot or download holding up the rest.
 */
final class KeyedSerialExecutor implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KeyedSerialExecutor.class);

  private final Map<String, CompletableFuture<Void>> tails = new ConcurrentHashMap<>();
  private final ExecutorService pool =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("hearth-vm-", 0).factory());

  CompletableFuture<Void> submit(String key, Runnable task) {
    return tails.compute(
        key,
        (k, tail) ->
            (tail == null ? CompletableFuture.<Void>completedFuture(null) : tail)
                .handle((v, e) -> null)
                .thenRunAsync(
                    () -> {
                      try {
                        task.run();
                      } catch (RuntimeException | Error e) {
                        if (!pool.isShutdown()) { // failures while closing are expected
                          LOG.error("task for {} failed", k, e);
                        }
                        throw e;
                      }
                    },
                    pool));
  }

  /** Waits until every task submitted so far has finished. */
  void drain(long timeout, TimeUnit unit) throws Exception {
    CompletableFuture.allOf(
            tails.values().stream()
                .map(f -> f.handle((v, e) -> null))
                .toArray(CompletableFuture[]::new))
        .get(timeout, unit);
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
