package dev.hearth.vmm.devices.legacy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class LegacyDevicesTest {
  private final AtomicInteger irqs = new AtomicInteger();
  private final ByteArrayOutputStream sink = new ByteArrayOutputStream();
  private final ConsoleOutput console = new ConsoleOutput(8, sink);
  private final Serial16550 uart = new Serial16550(console, irqs::incrementAndGet);

  private int in(int reg) {
    byte[] b = new byte[1];
    uart.read(reg, b);
    return b[0] & 0xff;
  }

  private void out(int reg, int v) {
    uart.write(reg, new byte[] {(byte) v});
  }

  @Test
  void transmittedBytesReachTheRingBufferAndTheSink() {
    for (char c : "hello, world\n".toCharArray()) {
      out(0, c);
    }
    assertThat(sink.toString()).isEqualTo("hello, world\n");
    assertThat(console.text()).isEqualTo(", world\n");
    assertThat(console.totalBytes()).isEqualTo(13);
    assertThat(in(5) & 0x60).isEqualTo(0x60);
    assertThat(irqs.get()).isZero();
  }

  @Test
  void enablingTheTransmitInterruptRaisesItAndReadingIirAcknowledgesIt() {
    out(1, 0x02);
    assertThat(irqs.get()).isEqualTo(1);
    assertThat(in(2) & 0x0f).isEqualTo(0x02);
    assertThat(in(2) & 0x0f).isEqualTo(0x01);
    out(0, 'x');
    assertThat(irqs.get()).isEqualTo(2);
  }

  @Test
  void inputIsReadThroughTheFifoWithDataReadyAndItsInterrupt() {
    out(1, 0x01);
    assertThat(uart.enqueueInput("ab".getBytes())).isEqualTo(2);
    assertThat(irqs.get()).isEqualTo(1);
    assertThat(in(5) & 1).isEqualTo(1);
    assertThat(in(2) & 0x0f).isEqualTo(0x04);
    assertThat(in(0)).isEqualTo('a');
    assertThat(in(0)).isEqualTo('b');
    assertThat(in(5) & 1).isZero();
    assertThat(uart.enqueueInput(new byte[100])).isEqualTo(Serial16550.FIFO_SIZE);
  }

  @Test
  void loopbackModeReflectsModemControlAsTheLinuxProbeExpects() {
    out(4, 0x10 | 0x0a); // loop, RTS, OUT2
    assertThat(in(6) & 0xf0).isEqualTo(0x90);
    out(0, 'z');
    assertThat(in(0)).isEqualTo('z');
    assertThat(sink.size()).isZero();
  }

  @Test
  void divisorLatchIsSeparateFromDataAndIer() {
    out(3, 0x80);
    out(0, 0x01);
    out(1, 0x00);
    out(3, 0x03);
    assertThat(sink.size()).isZero();
    assertThat(in(1)).isZero();
    assertThat(in(3)).isEqualTo(3);
  }

  @Test
  void hostileAccessesAreIgnored() {
    byte[] wide = new byte[4];
    uart.read(0, wide);
    assertThat(wide).containsOnly((byte) 0xff);
    uart.write(9, new byte[] {1});
    uart.write(-1, new byte[] {1});
    assertThat(sink.size()).isZero();
  }

  @Test
  void aConsoleWithoutARingOnlyWritesItsSink() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ConsoleOutput c = new ConsoleOutput(0, out);
    c.write((byte) 'a');
    c.write((byte) '\n');
    assertThat(out.toString()).isEqualTo("a\n");
    assertThat(c.totalBytes()).isEqualTo(2);
    assertThat(c.snapshot()).isEmpty();
  }

  @Test
  void aFailingSinkIsDroppedWithoutLosingTheRingBuffer() {
    ConsoleOutput c =
        new ConsoleOutput(
            16,
            new OutputStream() {
              @Override
              public void write(int b) throws IOException {
                throw new IOException("closed");
              }
            });
    c.write((byte) 'a');
    c.write((byte) 'b');
    assertThat(c.text()).isEqualTo("ab");
  }

  @Test
  void i8042ResetsOnCommandFeAndAnswersConfigurationCommands() {
    AtomicInteger resets = new AtomicInteger();
    I8042 kbd = new I8042(resets::incrementAndGet);
    byte[] b = new byte[1];
    kbd.write(4, new byte[] {0x20});
    kbd.read(4, b);
    assertThat(b[0] & 1).isEqualTo(1);
    kbd.read(0, b);
    assertThat(b[0] & 0xff).isEqualTo(0x47);
    kbd.write(4, new byte[] {0x60});
    kbd.write(0, new byte[] {0x11});
    kbd.write(4, new byte[] {0x20});
    kbd.read(0, b);
    assertThat(b[0]).isEqualTo((byte) 0x11);
    assertThat(resets.get()).isZero();
    kbd.write(4, new byte[] {(byte) 0xfe});
    assertThat(resets.get()).isEqualTo(1);
  }

  @Test
  void bootTimerRecordsTheFirstMagicWriteOnly() {
    AtomicLong now = new AtomicLong(1_000);
    AtomicReference<Duration> seen = new AtomicReference<>();
    BootTimer t = new BootTimer(now::get, seen::set);
    t.markStart();
    now.set(5_000_000);
    t.write(0, new byte[] {12});
    t.write(1, new byte[] {123});
    assertThat(t.bootTime()).isEmpty();
    var booted = t.booted();
    assertThat(booted).isNotDone();
    t.write(0, new byte[] {123});
    now.set(9_000_000);
    t.write(0, new byte[] {123});
    assertThat(t.bootTime()).contains(Duration.ofNanos(4_999_000));
    assertThat(seen.get()).isEqualTo(Duration.ofNanos(4_999_000));
    assertThat(booted).isCompletedWithValue(Duration.ofNanos(4_999_000));
    // A caller cannot complete the timer's own future.
    t.booted().complete(Duration.ZERO);
    assertThat(t.booted()).isCompletedWithValue(Duration.ofNanos(4_999_000));
  }
}
