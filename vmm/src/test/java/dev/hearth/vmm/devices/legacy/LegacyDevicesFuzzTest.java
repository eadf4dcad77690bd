package dev.hearth.vmm.devices.legacy;

import static dev.hearth.vmm.arch.x86_64.X86Layout.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.devices.bus.MmioBus;
import dev.hearth.vmm.devices.bus.PioBus;
import java.io.OutputStream;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A guest's port and MMIO accesses, at random, on the legacy devices as the VM wires them (serial,
 * i8042, boot timer), with console input arriving from the host in between: nothing throws, the
 * UART's FIFO and the console buffer stay within their sizes, and reads fill exactly what was
 * asked.
 */
class LegacyDevicesFuzzTest {
  private static final int ACCESSES = dev.hearth.vmm.devices.virtio.ChainFuzzer.chains(250_000);

  @Test
  void survivesRandomAccesses() {
    Random r = new Random(0x1E6A);
    AtomicInteger resets = new AtomicInteger();
    ConsoleOutput console = new ConsoleOutput(4096, OutputStream.nullOutputStream());
    Serial16550 uart = new Serial16550(console, () -> {});
    BootTimer timer = new BootTimer(System::nanoTime, d -> {});
    timer.markStart();
    PioBus pio = new PioBus();
    MmioBus mmio = new MmioBus();
    pio.register(SERIAL_PORT, 8, uart, "serial");
    pio.register(I8042_PORT, I8042_PORT_SIZE, new I8042(resets::incrementAndGet), "i8042");
    pio.register(BOOT_TIMER_PORT, 1, timer, "boot timer port");
    mmio.register(BOOT_TIMER_MMIO, MMIO_SLOT_SIZE, timer, "boot timer");
    long[] pioBases = {SERIAL_PORT, I8042_PORT, BOOT_TIMER_PORT, 0x3f6, 0x0};
    long started = System.nanoTime();
    for (int i = 0; i < ACCESSES; i++) {
      if (r.nextInt(50) == 0) {
        byte[] in = new byte[r.nextInt(100)];
        r.nextBytes(in);
        int took = uart.enqueueInput(in);
        assertThat(took).isBetween(0, in.length);
      }
      boolean isPio = r.nextInt(8) != 0;
      long addr =
          isPio
              ? pioBases[r.nextInt(pioBases.length)] + r.nextInt(10) - 1
              : BOOT_TIMER_MMIO + (r.nextInt(8) == 0 ? r.nextLong() : r.nextInt(64));
      byte[] data = new byte[isPio ? 1 << r.nextInt(3) : 1 + r.nextInt(8)];
      if (r.nextBoolean()) {
        r.nextBytes(data);
        if (isPio) {
          pio.write(addr, data);
        } else {
          mmio.write(addr, data);
        }
      } else {
        int len = data.length;
        boolean hit = isPio ? pio.read(addr, data) : mmio.read(addr, data);
        assertThat(data).hasSize(len);
        if (!hit) {
          assertThat(data).containsOnly((byte) 0xff);
        }
      }
      assertThat(uart.inputSpace()).isBetween(0, Serial16550.FIFO_SIZE);
      assertThat(console.snapshot().length).isLessThanOrEqualTo(4096);
    }
    System.out.printf(
        "legacy devices fuzz: %,d accesses in %.1f s, %d i8042 resets%n",
        ACCESSES, (System.nanoTime() - started) / 1e9, resets.get());
  }
}
