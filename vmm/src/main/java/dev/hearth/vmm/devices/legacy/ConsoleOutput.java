package dev.hearth.vmm.devices.legacy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Where console bytes go: a ring buffer that keeps the last {@code capacity} bytes (for status
 * pages and tests), and a sink that sees every byte (a terminal, a log). A sink that fails is
 * dropped: a console reader must never stop the guest.
 */
public final class ConsoleOutput {
  private static final System.Logger LOG = System.getLogger(ConsoleOutput.class.getName());

  private final byte[] ring;
  private long written;
  private OutputStream sink;

  /**
   * A console keeping {@code capacity} bytes, also writing to {@code sink} (may be null). With
   * capacity 0 it keeps nothing: the sink, which holds the output already, is its only reader.
   */
  public ConsoleOutput(int capacity, OutputStream sink) {
    if (capacity < 0) {
      throw new IllegalArgumentException("console capacity " + capacity);
    }
    this.ring = new byte[capacity];
    this.sink = sink;
  }

  /** Appends one byte. */
  public synchronized void write(byte b) {
    if (ring.length > 0) {
      ring[(int) (written % ring.length)] = b;
    }
    written++;
    if (sink != null) {
      try {
        sink.write(b);
        if (b == '\n') {
          sink.flush();
        }
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "console sink failed; dropping it: " + e);
        sink = null;
      }
    }
  }

  /** Flushes the sink. */
  public synchronized void flush() {
    if (sink != null) {
      try {
        sink.flush();
      } catch (IOException e) {
        sink = null;
      }
    }
  }

  /** Total bytes ever written. */
  public synchronized long totalBytes() {
    return written;
  }

  /** The last bytes written, oldest first, up to the capacity. */
  public synchronized byte[] snapshot() {
    int n = (int) Math.min(written, ring.length);
    byte[] out = new byte[n];
    if (n == 0) {
      return out;
    }
    int start = (int) ((written - n) % ring.length);
    for (int i = 0; i < n; i++) {
      out[i] = ring[(start + i) % ring.length];
    }
    return out;
  }

  /** {@link #snapshot()} as text (bytes above 0x7f become replacement characters). */
  public String text() {
    return new String(snapshot(), StandardCharsets.UTF_8);
  }
}
