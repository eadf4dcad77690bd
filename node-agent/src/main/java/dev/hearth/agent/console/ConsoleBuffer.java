package dev.hearth.agent.console;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.ToIntFunction;

/**
 * The recent serial output of one VM, bounded to {@code capacity} bytes (older bytes are dropped),
 *
 * <p>The ring grows with the output up to its capacity: a quiet VM holds a few hundred bytes, not
 * the whole capacity, which matters with thousands of VMs on a node. and the way to its serial
 * input while a run of it is attached. Positions are absolute byte offsets since the VM's first
 * output, so a follower that fell behind learns how much it missed instead of reading garbage.
 */
public final class ConsoleBuffer {
  private static final long INPUT_POLL_NANOS = 2_000_000;

  private static final int FIRST_SIZE = 256;

  private final int capacity;
  private byte[] ring = new byte[0]; // grows to capacity; positions wrap at capacity
  private long end; // total bytes ever written
  private boolean closed;
  // The running VM's serial port: takes what fits in its FIFO and returns how much; null between
  // runs. Input is never queued here: a guest that does not read holds the writer back instead.
  private volatile ToIntFunction<byte[]> input;

  public ConsoleBuffer(int capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("console buffer capacity must be positive: " + capacity);
    }
    this.capacity = capacity;
  }

  /** The bytes the ring holds allocated now (at most the capacity). */
  int allocated() {
    return ring.length;
  }

  /** Grows the ring to hold positions below {@code upTo}; before it wraps, nothing moves. */
  private void grow(long upTo) {
    if (ring.length < capacity && upTo > ring.length) {
      long size = Math.max(upTo, Math.max(FIRST_SIZE, 2L * ring.length));
      ring = Arrays.copyOf(ring, (int) Math.min(capacity, size));
    }
  }

  /**
   * What a reader of the console is shown where {@code n} bytes of the guest's output were lost (it
   * fell behind, or they could not be carried to the agent in time).
   */
  public static byte[] droppedNotice(long n) {
    return ("\n[hearth: " + n + " console bytes dropped]\n").getBytes(StandardCharsets.US_ASCII);
  }

  /** Bytes from {@code from} (or the oldest still held) up to the end; see {@link Chunk}. */
  public record Chunk(byte[] data, long next, long dropped, boolean closed) {}

  public synchronized void write(byte[] b, int off, int len) {
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    if (closed || len == 0) {
      return;
    }
    if (len >= capacity) { // only the last capacity bytes can survive
      off += len - capacity;
      end += len - capacity;
      len = capacity;
    }
    grow(end + len);
    int at = (int) (end % capacity);
    int first = Math.min(len, capacity - at);
    System.arraycopy(b, off, ring, at, first);
    System.arraycopy(b, off + first, ring, 0, len - first);
    end += len;
    notifyAll();
  }

  /**
   * What a serial device writes into; closing it is a no-op (the VM's removal closes the buffer).
   */
  public OutputStream asOutputStream() {
    return new OutputStream() {
      @Override
      public void write(int b) {
        ConsoleBuffer.this.write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        ConsoleBuffer.this.write(b, off, len);
      }
    };
  }

  /** Input now goes to {@code serialPort} (a run of the VM started). */
  public void attachInput(ToIntFunction<byte[]> serialPort) {
    input = serialPort;
  }

  /** The VM's run ended: input is refused until the next run attaches. */
  public void detachInput() {
    input = null;
  }

  /**
   * Hands {@code bytes} to the VM's serial port, waiting while its receive FIFO is full, for at
   * most {@code timeout} in all. Returns how many bytes the guest took: all of them, or fewer when
   * no run is attached or the guest did not read in time (the rest is dropped, never buffered).
   */
  public int writeInput(byte[] bytes, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    int off = 0;
    while (off < bytes.length) {
      ToIntFunction<byte[]> port = input;
      if (port == null || closed()) {
        break;
      }
      int took = port.applyAsInt(off == 0 ? bytes : Arrays.copyOfRange(bytes, off, bytes.length));
      off += Math.max(0, Math.min(took, bytes.length - off));
      if (off < bytes.length) {
        if (System.nanoTime() - deadline >= 0) {
          break;
        }
        Thread.sleep(Duration.ofNanos(INPUT_POLL_NANOS));
      }
    }
    return off;
  }

  private synchronized boolean closed() {
    return closed;
  }

  /** No more output will come (the VM is gone); followers finish. */
  public synchronized void close() {
    closed = true;
    input = null;
    notifyAll();
  }

  public synchronized long end() {
    return end;
  }

  /** Everything still held. */
  public Chunk tail() {
    return readFrom(0);
  }

  public synchronized Chunk readFrom(long from) {
    long start = Math.max(0, end - capacity);
    long dropped = Math.max(0, start - from);
    long begin = Math.max(from, start);
    if (begin >= end) {
      return new Chunk(new byte[0], end, dropped, closed);
    }
    int len = (int) (end - begin);
    byte[] out = new byte[len];
    int at = (int) (begin % capacity);
    int first = Math.min(len, capacity - at);
    System.arraycopy(ring, at, out, 0, first);
    System.arraycopy(ring, 0, out, first, len - first);
    return new Chunk(out, end, dropped, closed);
  }

  /**
   * Waits up to {@code timeout} for output beyond {@code from}, then reads like {@link #readFrom}.
   */
  public synchronized Chunk awaitFrom(long from, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (end <= from && !closed) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      wait(Math.max(1, left / 1_000_000));
    }
    return readFrom(from);
  }
}
