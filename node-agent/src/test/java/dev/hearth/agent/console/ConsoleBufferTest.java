package dev.hearth.agent.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class ConsoleBufferTest {
  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String s(ConsoleBuffer.Chunk c) {
    return new String(c.data(), StandardCharsets.UTF_8);
  }

  @Test
  void growsWithTheOutputAndKeepsItAcrossEveryGrowthAndTheWrap() {
    ConsoleBuffer buf = new ConsoleBuffer(64 * 1024);
    assertThat(buf.allocated()).isZero(); // a quiet VM holds no ring
    buf.write(b("booting\n"), 0, 8);
    assertThat(buf.allocated()).isLessThanOrEqualTo(256);
    StringBuilder all = new StringBuilder("booting\n");
    for (int i = 0; i < 20_000; i++) {
      byte[] line = b("line " + i + "\n");
      buf.write(line, 0, line.length);
      all.append("line ").append(i).append('\n');
    }
    assertThat(buf.allocated()).isEqualTo(64 * 1024);
    String expected = all.substring(all.length() - 64 * 1024);
    assertThat(s(buf.tail())).isEqualTo(expected);
    assertThat(buf.tail().dropped()).isEqualTo(all.length() - 64 * 1024);
  }

  @Test
  void keepsOnlyTheMostRecentBytesAcrossTheWrap() {
    ConsoleBuffer buf = new ConsoleBuffer(8);
    buf.write(b("hello "), 0, 6);
    buf.write(b("world"), 0, 5);
    ConsoleBuffer.Chunk tail = buf.tail();
    assertThat(s(tail)).isEqualTo("lo world");
    assertThat(tail.dropped()).isEqualTo(3);
    assertThat(tail.next()).isEqualTo(11);
  }

  @Test
  void aWriteLargerThanTheBufferKeepsItsEnd() {
    ConsoleBuffer buf = new ConsoleBuffer(4);
    buf.write(b("abcdefghij"), 0, 10);
    assertThat(s(buf.tail())).isEqualTo("ghij");
    assertThat(buf.end()).isEqualTo(10);
  }

  @Test
  void readingFromAPositionReturnsOnlyNewerBytes() throws Exception {
    ConsoleBuffer buf = new ConsoleBuffer(64);
    buf.asOutputStream().write('a');
    long pos = buf.end();
    buf.write(b("bc"), 0, 2);
    ConsoleBuffer.Chunk c = buf.readFrom(pos);
    assertThat(s(c)).isEqualTo("bc");
    assertThat(c.dropped()).isZero();
    assertThat(buf.readFrom(c.next()).data()).isEmpty();
  }

  @Test
  void aFollowerWakesOnNewOutputAndEndsOnClose() throws Exception {
    ConsoleBuffer buf = new ConsoleBuffer(64);
    CompletableFuture<ConsoleBuffer.Chunk> waiting =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return buf.awaitFrom(0, Duration.ofSeconds(30));
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
    Thread.sleep(50);
    buf.write(b("boot"), 0, 4);
    assertThat(s(waiting.get())).isEqualTo("boot");
    buf.close();
    ConsoleBuffer.Chunk last = buf.awaitFrom(4, Duration.ofSeconds(30));
    assertThat(last.closed()).isTrue();
    assertThat(last.data()).isEmpty();
  }

  @Test
  void aFollowerTimesOutWithNothing() throws Exception {
    ConsoleBuffer buf = new ConsoleBuffer(64);
    ConsoleBuffer.Chunk c = buf.awaitFrom(0, Duration.ofMillis(20));
    assertThat(c.data()).isEmpty();
    assertThat(c.closed()).isFalse();
  }

  @Test
  void inputGoesToTheAttachedPortAsItsFifoDrainsAndIsRefusedBetweenRuns() throws Exception {
    ConsoleBuffer b = new ConsoleBuffer(16);
    byte[] typed = "0123456789abcdefghij".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertThat(b.writeInput(typed, java.time.Duration.ofMillis(50))).isZero(); // no run yet
    java.io.ByteArrayOutputStream guest = new java.io.ByteArrayOutputStream();
    java.util.concurrent.atomic.AtomicInteger calls =
        new java.util.concurrent.atomic.AtomicInteger();
    // A port that takes at most 4 bytes a call, as a small FIFO the guest drains.
    b.attachInput(
        bytes -> {
          calls.incrementAndGet();
          int n = Math.min(4, bytes.length);
          guest.write(bytes, 0, n);
          return n;
        });
    assertThat(b.writeInput(typed, java.time.Duration.ofSeconds(5))).isEqualTo(typed.length);
    assertThat(guest.toByteArray()).isEqualTo(typed);
    assertThat(calls.get()).isEqualTo(5);
    // A guest that never reads: the writer gives up after the timeout, nothing is queued here.
    b.attachInput(bytes -> 0);
    long t0 = System.nanoTime();
    assertThat(b.writeInput(typed, java.time.Duration.ofMillis(100))).isZero();
    assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(100_000_000L);
    b.detachInput();
    assertThat(b.writeInput(typed, java.time.Duration.ofSeconds(1))).isZero();
  }
}
