package dev.hearth.agent.vmmhost;

import dev.hearth.agent.console.ConsoleBuffer;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries the console output of a VMM process's VMs to the agent. A guest's write only copies into
 * its VM's {@link Backlog} and never waits on the process's one pipe to the agent; one thread sends
 * the backlogs, a chunk per VM in turn. So a guest that floods its console delays its neighbours'
 * output by at most one chunk, and cannot hold up their vCPUs, their replies or their exits, and a
 * console that backs up is sent in large chunks rather than a frame per byte. A VM whose backlog is
 * full loses its oldest unsent bytes; its next chunk starts with {@link
 * ConsoleBuffer#droppedNotice}, as a console follower that fell behind is told.
 */
final class ConsoleRelay implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ConsoleRelay.class);

  /** Sends one console frame to the agent. */
  interface Frames {
    void send(int key, byte[] b, int off, int len);
  }

  private static final int FIRST_SIZE = 256;
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

  private final int backlogBytes;
  private final int chunkBytes;
  private final Frames frames;
  // Each backlog is here at most once (its queued flag), so this holds at most one entry per VM.
  private final BlockingQueue<Backlog> ready = new LinkedBlockingQueue<>();
  private final Backlog stop;
  private final Thread thread;

  /**
   * @param backlogBytes what a VM may have waiting to be sent; more drops its oldest bytes
   * @param chunkBytes the most one frame carries
   */
  ConsoleRelay(int backlogBytes, int chunkBytes, Frames frames) {
    if (backlogBytes <= 0 || chunkBytes <= 0) {
      throw new IllegalArgumentException("backlog " + backlogBytes + ", chunk " + chunkBytes);
    }
    this.backlogBytes = backlogBytes;
    this.chunkBytes = chunkBytes;
    this.frames = frames;
    this.stop = new Backlog(-1);
    this.thread = Thread.ofPlatform().name("hearth-console-relay").daemon(true).start(this::run);
  }

  /** The console stream of VM {@code key}: what its guest writes goes to the agent. */
  Backlog open(int key) {
    return new Backlog(key);
  }

  private void run() {
    try {
      for (Backlog b = ready.take(); b != stop; b = ready.take()) {
        try {
          b.sendOne();
        } catch (RuntimeException e) {
          // One chunk lost; the relay serves every VM of the process, so it goes on.
          LOG.warn("console output of VM {} could not be sent: {}", b.key, e.toString());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Stops the relay's thread once it has sent what was queued before this, waiting for that at most
   * {@link #CLOSE_WAIT} (the agent may have stopped reading). A backlog's {@link Backlog#drain}
   * still sends afterwards.
   */
  @Override
  public void close() {
    ready.add(stop);
    try {
      thread.join(CLOSE_WAIT);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One VM's console bytes not yet sent, at most the relay's backlog. */
  final class Backlog extends OutputStream {
    private final int key;
    // Held while a chunk is taken and sent, so that a VM's chunks leave in the order written.
    private final Object sending = new Object();
    private byte[] buf = new byte[0];
    private int head; // index of the oldest unsent byte
    private int size; // unsent bytes
    private long dropped; // dropped since the last chunk
    private boolean queued;

    private Backlog(int key) {
      this.key = key;
    }

    @Override
    public synchronized void write(int b) {
      reserve(1);
      buf[(head + size) % buf.length] = (byte) b;
      size++;
      queue();
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      Objects.checkFromIndexSize(off, len, b.length);
      if (len == 0) {
        return;
      }
      if (len > backlogBytes) { // only the last backlogBytes can survive
        dropped += len - backlogBytes;
        off += len - backlogBytes;
        len = backlogBytes;
      }
      reserve(len);
      int tail = (head + size) % buf.length;
      int first = Math.min(len, buf.length - tail);
      System.arraycopy(b, off, buf, tail, first);
      System.arraycopy(b, off + first, buf, 0, len - first);
      size += len;
      queue();
    }

    /** Sends, before it returns, everything written so far (the VM has ended: its exit follows). */
    void drain() {
      synchronized (sending) {
        byte[] chunk;
        while ((chunk = take()) != null) {
          frames.send(key, chunk, 0, chunk.length);
        }
      }
    }

    /** Room for {@code len} more bytes: the oldest go if the backlog would overflow. */
    private void reserve(int len) {
      int over = size + len - backlogBytes;
      if (over > 0) {
        head = (head + over) % buf.length;
        size -= over;
        dropped += over;
      }
      if (size + len > buf.length) {
        byte[] next =
            new byte
                [Math.min(
                    backlogBytes, Math.max(size + len, Math.max(FIRST_SIZE, 2 * buf.length)))];
        copyOut(next, 0, size);
        buf = next;
        head = 0;
      }
    }

    private void queue() {
      if (!queued) {
        queued = true;
        ready.add(this);
      }
    }

    /** Copies the oldest {@code n} unsent bytes to {@code into} at {@code at}. */
    private void copyOut(byte[] into, int at, int n) {
      int first = Math.min(n, buf.length - head);
      System.arraycopy(buf, head, into, at, first);
      System.arraycopy(buf, 0, into, at + first, n - first);
    }

    /** The next chunk to send (the notice of drops first), or null when nothing waits. */
    private synchronized byte[] take() {
      if (size == 0 && dropped == 0) {
        return null;
      }
      byte[] notice = dropped > 0 ? ConsoleBuffer.droppedNotice(dropped) : new byte[0];
      int n = Math.min(size, chunkBytes);
      byte[] chunk = new byte[notice.length + n];
      System.arraycopy(notice, 0, chunk, 0, notice.length);
      copyOut(chunk, notice.length, n);
      head = size == n ? 0 : (head + n) % buf.length;
      size -= n;
      dropped = 0;
      if (size == 0 && buf.length > FIRST_SIZE) {
        buf = new byte[0]; // a console that backed up once does not keep its backlog's memory
      }
      return chunk;
    }

    /** The relay's turn for this VM: one chunk, then back in the queue if more is waiting. */
    private void sendOne() {
      synchronized (sending) {
        try {
          byte[] chunk = take();
          if (chunk != null) {
            frames.send(key, chunk, 0, chunk.length);
          }
        } finally {
          synchronized (this) {
            if (size > 0 || dropped > 0) {
              ready.add(this);
            } else {
              queued = false;
            }
          }
        }
      }
    }
  }
}
