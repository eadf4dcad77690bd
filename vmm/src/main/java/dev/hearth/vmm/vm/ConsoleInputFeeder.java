package dev.hearth.vmm.vm;

import dev.hearth.vmm.devices.legacy.Serial16550;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.function.BooleanSupplier;

/**
 * Feeds console input from a host stream (a terminal's stdin, a socket) to a guest's serial port on
 * a daemon thread, holding back while the UART's FIFO is full.
 */
final class ConsoleInputFeeder {
  private ConsoleInputFeeder() {}

  /**
   * Starts the thread {@code console-in-<vm>}. It ends at end of input or once {@code vmEnded} says
   * so; a read that blocks keeps it until its next byte.
   */
  static void start(
      String vmName, InputStream source, Serial16550 serial, BooleanSupplier vmEnded) {
    Thread.ofPlatform()
        .name("console-in-" + vmName)
        .daemon(true)
        .start(() -> feed(source, serial, vmEnded));
  }

  private static void feed(InputStream source, Serial16550 serial, BooleanSupplier vmEnded) {
    byte[] buf = new byte[256];
    try {
      int n;
      while (!vmEnded.getAsBoolean() && (n = source.read(buf)) > 0) {
        int off = 0;
        while (off < n && !vmEnded.getAsBoolean()) {
          off += serial.enqueueInput(Arrays.copyOfRange(buf, off, n));
          if (off < n) {
            Thread.sleep(1);
          }
        }
      }
    } catch (IOException | InterruptedException e) {
      // Input ended: the guest simply gets no more.
    }
  }
}
