package dev.hearth.vmm.devices.virtio.vsock;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * Control packets waiting for the guest's receive buffers, in bounded space whatever the guest
 * does. A live connection's REQUEST, RESPONSE and CREDIT_UPDATE are flags on the connection (at
 * most one of each, built when sent, so a credit update carries the latest count); RSTs, whose
 * connection is gone, queue here up to {@link #MAX_RESETS}. Once that queue is full the device
 * stops taking guest packets until the guest posts receive buffers, so a guest's flood is held back
 * in its own ring, not in the host's heap. Used only under the device's lock.
 */
final class VsockControl {
  /** RSTs held at most; a guest packet can add one, so TX waits while this many wait. */
  static final int MAX_RESETS = 256;

  private final Deque<VsockHeader> resets = new ArrayDeque<>();
  private final Set<VsockConnection> waiting = new LinkedHashSet<>();
  private long dropped;

  /** Queues an RST; one beyond the bound (host-side resets only) is dropped and counted. */
  void reset(VsockHeader rst) {
    if (resets.size() < MAX_RESETS) {
      resets.add(rst);
    } else {
      dropped++;
    }
  }

  /** Flags {@code op} (REQUEST, RESPONSE or CREDIT_UPDATE) to go to the guest for {@code c}. */
  void flag(VsockConnection c, int op) {
    c.pendingControl |= 1 << op;
    waiting.add(c);
  }

  /** Drops what waits for {@code c}, which is gone. */
  void forget(VsockConnection c) {
    c.pendingControl = 0;
    waiting.remove(c);
  }

  /** Whether guest packets must wait: an RST for each might not fit. */
  boolean full() {
    return resets.size() >= MAX_RESETS;
  }

  boolean isEmpty() {
    return resets.isEmpty() && waiting.isEmpty();
  }

  /** Packets waiting (a connection's flags count once). */
  int size() {
    return resets.size() + waiting.size();
  }

  /** RSTs dropped because the queue was full. */
  long dropped() {
    return dropped;
  }

  void clear() {
    resets.clear();
    waiting.forEach(c -> c.pendingControl = 0);
    waiting.clear();
  }

  /** The next packet, RSTs first, built by {@code header(connection, op)}; null when none. */
  VsockHeader poll(BiFunction<VsockConnection, Integer, VsockHeader> header) {
    VsockHeader rst = resets.poll();
    if (rst != null) {
      return rst;
    }
    var it = waiting.iterator();
    if (!it.hasNext()) {
      return null;
    }
    VsockConnection c = it.next();
    int op = Integer.numberOfTrailingZeros(c.pendingControl);
    c.pendingControl &= ~(1 << op);
    if (c.pendingControl == 0) {
      it.remove();
    }
    return header.apply(c, op);
  }
}
