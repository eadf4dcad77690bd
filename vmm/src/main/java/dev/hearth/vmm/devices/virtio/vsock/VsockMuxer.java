package dev.hearth.vmm.devices.virtio.vsock;

import static dev.hearth.vmm.devices.virtio.vsock.VsockHeader.*;

import dev.hearth.vmm.devices.DeviceLog;
import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.HashMap;
import java.util.Map;

/**
 * The connection side of {@link VirtioVsock}: the host's Unix sockets, the state of every stream,
 * and the control packets waiting for the guest. Used only under the device's lock, except {@link
 * #select}, which only waits.
 *
 * <p>A hostile guest cannot grow the host's heap without bound: connections are capped at {@link
 * #MAX_CONNECTIONS} (Firecracker's limit; more are refused with RST), control packets are bounded
 * ({@link VsockControl}), and guest data that host sockets have not taken is held in buffers that
 * grow only as needed, within the credit the guest was given per connection and within {@link
 * VsockConfig#maxBufferedBytes} for the device (a connection that would need more is reset).
 */
final class VsockMuxer {
  private static final System.Logger LOG = System.getLogger(VsockMuxer.class.getName());

  /** Open connections at most, host ones still sending their CONNECT line included. */
  static final int MAX_CONNECTIONS = 1023;

  private static final int FIRST_LOCAL_PORT = 1 << 30;

  private final VsockConfig config;
  private final Selector selector;
  private final VsockListener listener;
  private final Map<Long, VsockConnection> conns = new HashMap<>();
  private final VsockControl control = new VsockControl();
  private int nextLocalPort = FIRST_LOCAL_PORT;
  private long buffered;

  /** The VM's device log, from the device's activation. */
  DeviceLog log = new DeviceLog("an unactivated vsock device");

  /**
   * Binds {@code config.udsPath()}, replacing only a stale socket there ({@link VsockListener}).
   */
  VsockMuxer(VsockConfig config) throws IOException {
    this.config = config;
    this.selector = Selector.open();
    try {
      this.listener = new VsockListener(config.udsPath(), selector);
    } catch (IOException | RuntimeException e) {
      selector.close();
      throw e;
    }
  }

  boolean open() {
    return selector.isOpen();
  }

  /** Waits up to {@code timeoutMillis} (0: indefinitely) for host socket events. Lock not held. */
  void select(long timeoutMillis) throws IOException {
    if (timeoutMillis < 0) {
      selector.selectNow();
    } else {
      selector.select(timeoutMillis);
    }
  }

  /** Handles the events the last {@link #select} found. */
  void handleSelected(boolean guestReady) throws IOException {
    for (SelectionKey key : selector.selectedKeys()) {
      if (!key.isValid()) {
        continue;
      }
      if (listener.owns(key)) {
        listener.accept(selector, guestReady ? MAX_CONNECTIONS - connectionCount() : 0);
      } else {
        hostEvent((VsockConnection) key.attachment(), key);
      }
    }
    selector.selectedKeys().clear();
  }

  /** Drops every connection and pending packet (device reset). */
  void clear() {
    conns.values().forEach(VsockConnection::close);
    conns.clear();
    buffered = 0;
    listener.clear();
    control.clear();
  }

  void close() throws IOException {
    clear();
    selector.close();
    listener.close();
  }

  /** A malformed guest packet: reset its connection if it names one, else answer RST. */
  void malformed(VsockHeader h, String why) {
    VsockConnection c = conns.get(VsockConnection.keyOf(h.dstPort(), h.srcPort()));
    if (c != null) {
      resetConnection(c, "malformed packet: " + why);
    } else {
      replyRst(h);
    }
  }

  int pendingControl() {
    return control.size();
  }

  int connectionCount() {
    return conns.size() + listener.awaiting();
  }

  long bufferedBytes() {
    return buffered;
  }

  /** The next control packet for the guest, or null. */
  VsockHeader pollControl() {
    return control.poll((c, op) -> header(c, op, 0, 0));
  }

  boolean hasControl() {
    return !control.isEmpty();
  }

  /** Whether guest packets must wait for receive buffers (the answers might not fit). */
  boolean controlFull() {
    return control.full();
  }

  void hostEvent(VsockConnection c, SelectionKey key) {
    try {
      if (c.state == VsockConnection.State.AWAIT_CONNECT_LINE) {
        long port = listener.readConnectLine(c);
        if (port >= 0) {
          hostConnected(c, (int) port);
        }
        return;
      }
      if (key.isWritable()) {
        flushToHost(c);
      }
      if (key.isValid() && key.isReadable()) {
        // fillRx reads when the guest has buffers and credit; stop watching until then.
        c.hostReadable = true;
        key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
      }
    } catch (IOException e) {
      resetConnection(c, "host socket: " + e.getMessage());
    }
  }

  /** A host program asked for guest port {@code port}: ask the guest. */
  private void hostConnected(VsockConnection c, int port) {
    c.localPort = allocateLocalPort(port);
    c.peerPort = port;
    c.state = VsockConnection.State.LOCAL_INIT;
    c.key.interestOps(0);
    conns.put(c.key(), c);
    control.flag(c, OP_REQUEST);
  }

  private int allocateLocalPort(int peerPort) {
    while (true) {
      int p = nextLocalPort;
      nextLocalPort = nextLocalPort == -1 ? FIRST_LOCAL_PORT : nextLocalPort + 1;
      if (!conns.containsKey(VsockConnection.keyOf(p, peerPort))) {
        return p;
      }
    }
  }

  private void flushToHost(VsockConnection c) throws IOException {
    int before = c.bufferCapacity();
    try {
      c.flushToHost();
    } finally {
      buffered += c.bufferCapacity() - before;
    }
    watchWrites(c);
  }

  /** Watches the host socket for room while guest data waits; shuts it once the guest did. */
  private void watchWrites(VsockConnection c) throws IOException {
    SelectionKey key = c.key;
    if (c.hasPendingToHost()) {
      key.interestOps(key.interestOps() | SelectionKey.OP_WRITE);
      selector.wakeup();
    } else {
      key.interestOps(key.interestOps() & ~SelectionKey.OP_WRITE);
      if (c.guestShutSend) {
        c.channel.shutdownOutput();
      }
    }
    if (c.fwdCnt - c.lastAdvertisedFwdCnt >= VsockConnection.BUF_ALLOC / 4) {
      control.flag(c, OP_CREDIT_UPDATE);
    }
  }

  void resetConnection(VsockConnection c, String why) {
    log.log(
        LOG, System.Logger.Level.DEBUG, "vsock {0}<->{1} reset: {2}", c.localPort, c.peerPort, why);
    if (drop(c)) {
      control.reset(header(c, OP_RST, 0, 0));
    }
  }

  /** Closes {@code c} and forgets it; false if it was not open. */
  private boolean drop(VsockConnection c) {
    buffered -= c.bufferCapacity();
    control.forget(c);
    c.close();
    return conns.remove(c.key()) != null;
  }

  /** Passes guest data on {@code c} to its host socket, within the credit and the budget. */
  private void guestData(VsockConnection c, byte[] data) throws IOException {
    if (data.length > VsockConnection.BUF_ALLOC - c.pendingToHost()) {
      resetConnection(
          c,
          "guest overran its credit by "
              + (data.length - (VsockConnection.BUF_ALLOC - c.pendingToHost()))
              + " bytes");
      return;
    }
    int before = c.bufferCapacity();
    int grow = c.capacityFor(data.length) - before;
    if (grow > 0 && buffered + grow > config.maxBufferedBytes()) {
      // Only a guest whose host sockets stopped reading gets here; take what fits.
      c.flushToHost();
      buffered += c.bufferCapacity() - before;
      before = c.bufferCapacity();
      grow = c.capacityFor(data.length) - before;
      if (grow > 0 && buffered + grow > config.maxBufferedBytes()) {
        resetConnection(
            c, "the device's " + config.maxBufferedBytes() + "-byte buffer budget is spent");
        return;
      }
    }
    try {
      c.send(data, 0, data.length);
    } finally {
      buffered += c.bufferCapacity() - before;
    }
    watchWrites(c);
  }

  void onGuestPacket(VsockHeader h, byte[] data) {
    VsockConnection c = conns.get(VsockConnection.keyOf(h.dstPort(), h.srcPort()));
    if (h.op() == OP_REQUEST) {
      if (c != null) {
        resetConnection(c, "duplicate REQUEST");
        return;
      }
      connectToHost(h);
      return;
    }
    if (c == null) {
      replyRst(h);
      return;
    }
    c.updatePeerCredit(h);
    try {
      switch (h.op()) {
        case OP_RESPONSE -> {
          if (c.state != VsockConnection.State.LOCAL_INIT) {
            resetConnection(c, "unexpected RESPONSE");
            return;
          }
          c.state = VsockConnection.State.ESTABLISHED;
          if (!VsockListener.sendOk(c, selector)) {
            resetConnection(c, "host socket would not take the OK line");
          }
        }
        case OP_RW -> {
          if (c.state != VsockConnection.State.ESTABLISHED || c.guestShutSend) {
            resetConnection(c, "RW before the connection is up or after SHUTDOWN");
            return;
          }
          guestData(c, data);
        }
        case OP_CREDIT_UPDATE -> {}
        case OP_CREDIT_REQUEST -> control.flag(c, OP_CREDIT_UPDATE);
        case OP_SHUTDOWN -> {
          if ((h.flags() & (SHUTDOWN_RCV | SHUTDOWN_SEND)) == (SHUTDOWN_RCV | SHUTDOWN_SEND)) {
            flushToHost(c); // best effort; the guest is closing
            resetConnection(c, "guest closed");
          } else if ((h.flags() & SHUTDOWN_SEND) != 0) {
            c.guestShutSend = true;
            flushToHost(c);
          }
        }
        case OP_RST -> drop(c);
        default -> resetConnection(c, "unknown op " + h.op());
      }
    } catch (IOException e) {
      resetConnection(c, "host socket: " + e.getMessage());
    }
  }

  private void connectToHost(VsockHeader h) {
    if (connectionCount() >= MAX_CONNECTIONS) {
      replyRst(h);
      return;
    }
    SocketChannel ch = null;
    try {
      ch = VsockConnection.connectHost(config.udsPath(), h.dstPort()).orElse(null);
      if (ch == null) {
        replyRst(h);
        return;
      }
      VsockConnection c = new VsockConnection(ch, VsockConnection.State.ESTABLISHED);
      c.localPort = h.dstPort();
      c.peerPort = h.srcPort();
      c.updatePeerCredit(h);
      c.key = ch.register(selector, SelectionKey.OP_READ, c);
      selector.wakeup();
      conns.put(c.key(), c);
      control.flag(c, OP_RESPONSE);
    } catch (IOException e) {
      log.log(
          LOG,
          System.Logger.Level.DEBUG,
          "vsock guest connect to port {0} refused: {1}",
          Integer.toUnsignedString(h.dstPort()),
          e.getMessage());
      closeQuietly(ch);
      replyRst(h);
    }
  }

  private static void closeQuietly(SocketChannel ch) {
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // already failing
      }
    }
  }

  void replyRst(VsockHeader h) {
    if (h.op() != OP_RST) {
      control.reset(
          VsockHeader.toGuest(config.guestCid(), h.dstPort(), h.srcPort(), 0, OP_RST, 0, 0, 0));
    }
  }

  VsockConnection readyToSend() {
    for (VsockConnection c : conns.values()) {
      if (c.state == VsockConnection.State.ESTABLISHED
          && c.hostReadable
          && !c.hostEof
          && c.peerCredit() > 0) {
        return c;
      }
    }
    return null;
  }

  VsockHeader header(VsockConnection c, int op, int flags, int len) {
    c.lastAdvertisedFwdCnt = c.fwdCnt;
    return VsockHeader.toGuest(
        config.guestCid(),
        c.localPort,
        c.peerPort,
        len,
        op,
        flags,
        VsockConnection.BUF_ALLOC,
        c.fwdCnt);
  }
}
