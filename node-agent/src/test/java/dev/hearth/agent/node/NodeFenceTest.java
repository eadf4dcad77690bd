package dev.hearth.agent.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class NodeFenceTest {
  private final AtomicReference<Instant> now = new AtomicReference<>(Instant.EPOCH);
  private final InstantSource clock = () -> now.get();
  private final List<String> fenced = new ArrayList<>();

  private void advance(int seconds) {
    now.set(now.get().plusSeconds(seconds));
  }

  @Test
  void aRenewerWhoseClientThrowsReportsAFailureInsteadOfThrowing() {
    KubernetesClient broken =
        (KubernetesClient)
            Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {KubernetesClient.class},
                (proxy, method, args) -> {
                  throw new IllegalStateException("client bug");
                });
    LeaseRenewer renewer = new LeaseRenewer(broken, "hearth", "node-a", 40, clock, Optional::empty);
    assertThat(renewer.renew()).isFalse();
  }

  @Test
  void aScheduledHeartbeatSurvivesAThrowingRenewal() {
    AtomicInteger attempts = new AtomicInteger();
    NodeFence fence =
        new NodeFence(
            () -> {
              if (attempts.incrementAndGet() == 1) {
                throw new IllegalStateException("once");
              }
              return true;
            },
            Duration.ofSeconds(40),
            clock,
            fenced::add);
    var executor = Executors.newSingleThreadScheduledExecutor();
    try {
      executor.scheduleAtFixedRate(fence, 0, 10, TimeUnit.MILLISECONDS);
      await().atMost(Duration.ofSeconds(5)).until(() -> attempts.get() >= 3);
    } finally {
      executor.shutdownNow();
    }
    assertThat(fence.failures()).isEqualTo(1);
    assertThat(fenced).isEmpty();
  }

  @Test
  void renewalsFailingLongerThanTheFenceTimeStopTheVmsOnce() {
    AtomicInteger mode = new AtomicInteger(); // 0 renews, 1 fails, 2 throws
    NodeFence fence =
        new NodeFence(
            () ->
                switch (mode.get()) {
                  case 0 -> true;
                  case 1 -> false;
                  default -> throw new IllegalStateException("API server unreachable");
                },
            Duration.ofSeconds(40),
            clock,
            fenced::add);
    fence.run();
    mode.set(1);
    advance(13);
    fence.run();
    advance(13);
    mode.set(2);
    fence.run();
    advance(13);
    fence.run(); // 39 s since the last renewal
    assertThat(fenced).isEmpty();
    advance(2);
    fence.run();
    assertThat(fenced).singleElement().asString().contains("fenced", "41 s ago");
    assertThat(fence.fenced()).isTrue();
    advance(13);
    fence.run();
    assertThat(fenced).hasSize(1);
    assertThat(fence.failures()).isEqualTo(5);
  }

  @Test
  void aRenewalInTimeKeepsTheNodeUnfenced() {
    AtomicInteger tick = new AtomicInteger();
    NodeFence fence =
        new NodeFence(
            () -> tick.incrementAndGet() % 3 == 0, Duration.ofSeconds(40), clock, fenced::add);
    for (int i = 0; i < 30; i++) {
      advance(13);
      fence.run();
    }
    assertThat(fenced).isEmpty();
  }

  @Test
  void aRenewalCountsFromWhenItWasSentNotFromItsLateAnswer() {
    // The API server stored the Lease at once, but its answer took 30 s to come back: the operator
    // counts from the renewTime written before sending, and so must the fence.
    NodeFence fence =
        new NodeFence(
            () -> {
              advance(30);
              return true;
            },
            Duration.ofSeconds(40),
            clock,
            fenced::add);
    fence.run(); // sent at 0, answered at 30
    advance(11); // 41 s after the renewTime the operator sees
    fence.checkDeadline();
    assertThat(fenced).singleElement().asString().contains("41 s ago");
  }

  @Test
  void theDeadlineIsKeptWhileARenewalHangs() throws Exception {
    var release = new java.util.concurrent.CountDownLatch(1);
    NodeFence fence =
        new NodeFence(
            () -> {
              try {
                release.await(); // a request to an API server that never answers
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              return false;
            },
            Duration.ofSeconds(40),
            clock,
            fenced::add);
    Thread stuck = Thread.ofPlatform().start(fence);
    try {
      advance(41);
      fence.checkDeadline(); // from the other schedule, while run() is stuck
      assertThat(fenced).hasSize(1);
    } finally {
      release.countDown();
      stuck.join(5000);
    }
    assertThat(fenced).hasSize(1);
  }
}
