package dev.hearth.agent.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.v1alpha1.ReadinessProbe;
import dev.hearth.api.v1alpha1.TcpSocketProbe;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Real TCP connects to a local port that opens and closes. */
class ReadinessProberTest {
  private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
  private final List<String> changes = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() {
    timers.shutdownNow();
  }

  private static ReadinessCheck fast(int port, int failures, int successes) {
    return new ReadinessCheck(
        port, Duration.ZERO, Duration.ofMillis(50), Duration.ofMillis(500), failures, successes);
  }

  @Test
  void reportsReadyWhenThePortAcceptsAndUnreadyAfterTheFailureThreshold() throws Exception {
    ReadinessProber prober = new ReadinessProber(timers, ReadinessProber.TCP);
    InetAddress loopback = InetAddress.getLoopbackAddress();
    ServerSocket server = new ServerSocket(0, 50, loopback);
    int port = server.getLocalPort();
    ReadinessProber.Watch watch =
        prober.watch(loopback, fast(port, 3, 2), (ready, m) -> changes.add(ready + ": " + m));
    try {
      await().atMost(10, TimeUnit.SECONDS).until(() -> changes.size() == 1);
      assertThat(changes.getFirst()).isEqualTo("true: TCP port " + port + " accepts connections");
      server.close();
      await().atMost(10, TimeUnit.SECONDS).until(() -> changes.size() == 2);
      assertThat(changes.get(1))
          .startsWith("false: TCP port " + port + " failed 3 checks in a row");
      watch.close();
      Thread.sleep(300);
      assertThat(changes).as("nothing after close").hasSize(2);
    } finally {
      watch.close();
      server.close();
    }
  }

  @Test
  void anUnansweredConnectIsBoundedByTheTimeoutAndNotStackedUp() throws Exception {
    java.util.concurrent.atomic.AtomicInteger attempts =
        new java.util.concurrent.atomic.AtomicInteger();
    ReadinessProber prober =
        new ReadinessProber(
            timers,
            (address, timeout) -> {
              attempts.incrementAndGet();
              try {
                Thread.sleep(timeout.toMillis());
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              throw new java.net.SocketTimeoutException("connect timed out");
            });
    // Checks every 50 ms, each hanging for its 500 ms timeout: one attempt in flight at a time.
    ReadinessProber.Watch watch =
        prober.watch(
            InetAddress.getLoopbackAddress(),
            fast(9, 1, 1),
            (ready, m) -> changes.add(ready + ": " + m));
    try {
      Thread.sleep(1200);
      assertThat(attempts.get()).isBetween(2, 3);
      assertThat(changes).as("never Ready").isEmpty();
    } finally {
      watch.close();
    }
  }

  @Test
  void specValuesAreCheckedAndDefaulted() throws Exception {
    ReadinessProbe p = new ReadinessProbe(new TcpSocketProbe(8080));
    ReadinessCheck c = ReadinessCheck.from(p);
    assertThat(c)
        .isEqualTo(
            new ReadinessCheck(
                8080, Duration.ZERO, Duration.ofSeconds(10), Duration.ofSeconds(1), 3, 1));
    assertThat(ReadinessCheck.from(null)).isNull();
    p.setTimeoutSeconds(20);
    p.setPeriodSeconds(5);
    assertThatThrownBy(() -> ReadinessCheck.from(p))
        .isInstanceOf(ProbeException.class)
        .hasMessageContaining("spec.readinessProbe.timeoutSeconds 20 is outside 1..5");
    assertThatThrownBy(() -> ReadinessCheck.from(new ReadinessProbe(new TcpSocketProbe(70000))))
        .hasMessageContaining("tcpSocket.port 70000");
  }
}
