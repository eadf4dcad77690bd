package dev.hearth.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class KeyedSerialExecutorTest {

  @Test
  void tasksOfOneKeyRunInOrderAndFinishedKeysAreForgotten() throws Exception {
    try (KeyedSerialExecutor executor = new KeyedSerialExecutor()) {
      List<Integer> order = new CopyOnWriteArrayList<>();
      for (int i = 0; i < 50; i++) {
        int n = i;
        executor.submit("vm-a", () -> order.add(n));
      }
      for (int k = 0; k < 1_000; k++) {
        executor.submit("vm-" + k, () -> {});
      }
      executor.drain(30, TimeUnit.SECONDS);

      assertThat(order).hasSize(50).isSorted();
      await().atMost(Duration.ofSeconds(10)).until(() -> executor.pendingKeys() == 0);
    }
  }

  @Test
  void aKeyWithWorkQueuedStaysUntilItsLastTaskEnds() throws Exception {
    try (KeyedSerialExecutor executor = new KeyedSerialExecutor()) {
      CountDownLatch release = new CountDownLatch(1);
      executor.submit("vm-a", () -> awaitQuietly(release));
      executor.submit("vm-a", () -> {});
      assertThat(executor.pendingKeys()).isEqualTo(1);

      release.countDown();
      executor.drain(10, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(10)).until(() -> executor.pendingKeys() == 0);
    }
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
