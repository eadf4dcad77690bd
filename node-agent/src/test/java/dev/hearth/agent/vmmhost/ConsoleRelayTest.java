package dev.hearth.agent.vmmhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.hearth.agent.console.ConsoleBuffer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ConsoleRelayTest {
  private static final int BACKLOG = 4096;
  private static final int CHUNK = 1024;

  /** Frames as the agent would get them; the first send can be held, as a full pipe holds it. */
  private static final class Agent implements ConsoleRelay.Frames {
    final List<Integer> keys = new ArrayList<>();
    final List<byte[]> bodies = new ArrayList<>();
    final CountDownLatch firstSendStarted = new CountDownLatch(1);
    final CountDownLatch pipe;

    Agent(boolean held) {
      pipe = new CountDownLatch(held ? 1 : 0);
    }

    @Override
    public void send(int key, byte[] b, int off, int len) {
      firstSendStarted.countDown();
      try {
        pipe.await();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      synchronized (this) {
        keys.add(key);
        bodies.add(Arrays.copyOfRange(b, off, off + len));
      }
    }

    synchronized String of(int key) {
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      for (int i = 0; i < keys.size(); i++) {
        if (keys.get(i) == key) {
          all.writeBytes(bodies.get(i));
        }
      }
      return all.toString(StandardCharsets.US_ASCII);
    }

    synchronized int firstFrameOf(int key) {
      return keys.indexOf(key);
    }
  }

  @Test
  void aGuestWritesOnWhileThePipeToTheAgentIsFullAndLosesOnlyItsOldestBytes() throws Exception {
    Agent agent = new Agent(true);
    try (ConsoleRelay relay = new ConsoleRelay(BACKLOG, CHUNK, agent)) {
      ConsoleRelay.Backlog vm = relay.open(1);
      vm.write('a');
      assertThat(agent.firstSendStarted.await(10, TimeUnit.SECONDS)).isTrue();
      // The relay is stuck sending "a": the guest's writes must not wait for it.
      StringBuilder written = new StringBuilder();
      assertTimeoutPreemptively(
          Duration.ofSeconds(10),
          () -> {
            for (int i = 0; i < 10_000; i++) {
              String line = "line " + i + "\n";
              written.append(line);
              vm.write(line.getBytes(StandardCharsets.US_ASCII));
            }
          });
      agent.pipe.countDown();
      vm.drain();

      String got = agent.of(1);
      long lost = written.length() - BACKLOG;
      String notice = new String(ConsoleBuffer.droppedNotice(lost), StandardCharsets.US_ASCII);
      assertThat(got).isEqualTo("a" + notice + written.substring((int) lost));
    }
  }

  @Test
  void aQuietNeighbourIsSentBeforeTheRestOfAFloodersBacklog() throws Exception {
    Agent agent = new Agent(true);
    try (ConsoleRelay relay = new ConsoleRelay(BACKLOG, CHUNK, agent)) {
      ConsoleRelay.Backlog flooder = relay.open(1);
      ConsoleRelay.Backlog neighbour = relay.open(2);
      flooder.write(new byte[] {'x'});
      assertThat(agent.firstSendStarted.await(10, TimeUnit.SECONDS)).isTrue();
      byte[] flood = new byte[BACKLOG];
      Arrays.fill(flood, (byte) 'f');
      flooder.write(flood); // four chunks waiting
      neighbour.write("login: ".getBytes(StandardCharsets.US_ASCII));
      agent.pipe.countDown();
      // The relay's thread alone sends them now (a drain would send a backlog at once).
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> agent.of(1).length() == 1 + BACKLOG && agent.of(2).length() == 7);

      // The held "x", then one chunk of the flood at most, then the neighbour's turn.
      assertThat(agent.firstFrameOf(2)).isBetween(1, 2);
      assertThat(agent.of(2)).isEqualTo("login: ");
      assertThat(agent.of(1)).isEqualTo("x" + "f".repeat(BACKLOG));
    }
  }

  @Test
  void aChunkThatCannotBeSentCostsThatChunkAloneNotTheRelay() throws Exception {
    List<String> got = new CopyOnWriteArrayList<>();
    AtomicBoolean failed = new AtomicBoolean();
    ConsoleRelay.Frames frames =
        (key, b, off, len) -> {
          if (failed.compareAndSet(false, true)) {
            throw new IllegalStateException("a frame that cannot be written");
          }
          got.add(key + ":" + new String(b, off, len, StandardCharsets.US_ASCII));
        };
    try (ConsoleRelay relay = new ConsoleRelay(BACKLOG, CHUNK, frames)) {
      ConsoleRelay.Backlog vm = relay.open(1);
      vm.write("lost".getBytes(StandardCharsets.US_ASCII));
      await().atMost(Duration.ofSeconds(10)).until(failed::get);
      vm.write("kept".getBytes(StandardCharsets.US_ASCII));
      relay.open(2).write("other".getBytes(StandardCharsets.US_ASCII));
      await().atMost(Duration.ofSeconds(10)).until(() -> got.size() == 2);
      assertThat(got).containsExactlyInAnyOrder("1:kept", "2:other");
    }
  }

  @Test
  void whatAGuestWroteBeforeItsExitIsAllSentWhenDrainReturnsInOrder() throws Exception {
    Agent agent = new Agent(false);
    try (ConsoleRelay relay = new ConsoleRelay(BACKLOG, CHUNK, agent)) {
      ConsoleRelay.Backlog vm = relay.open(7);
      StringBuilder written = new StringBuilder();
      // Byte by byte, as the serial port writes, racing the relay's thread: under the backlog,
      // nothing is lost and nothing is reordered.
      for (int i = 0; i < 3000; i++) {
        char c = (char) ('a' + i % 26);
        written.append(c);
        vm.write(c);
        if (i % 100 == 0) {
          Thread.onSpinWait();
        }
      }
      vm.drain();
      assertThat(agent.of(7)).isEqualTo(written.toString());
    }
  }
}
