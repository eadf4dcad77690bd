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
    CompletableFuture<Void> next =
        tails.compute(
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
    // A finished key leaves the map, or it would hold every VM the agent has ever seen.
    next.whenComplete((v, e) -> tails.remove(key, next));
    return next;
  }

  /** How many keys have a task queued or running. */
  int pendingKeys() {
    return tails.size();
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
