package dev.hearth.vmm.devices.virtio.vsock;

import static dev.hearth.vmm.devices.virtio.vsock.VsockHeader.*;

import dev.hearth.vmm.devices.virtio.DeviceContext;
import dev.hearth.vmm.devices.virtio.DeviceType;
import dev.hearth.vmm.devices.virtio.QueueDrain;
import dev.hearth.vmm.devices.virtio.VirtioDevice;
import dev.hearth.vmm.devices.virtio.queue.DescriptorChain;
import dev.hearth.vmm.devices.virtio.queue.InvalidChainException;
import dev.hearth.vmm.devices.virtio.queue.QueueBrokenException;
import dev.hearth.vmm.devices.virtio.queue.Virtqueue;
import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * virtio-vsock (ID 19) in Firecracker's hybrid model: guest stream sockets meet host Unix sockets.
 *
 * <ul>
 *   <li>A host program connects to {@code udsPath} and writes {@code CONNECT <port>\n}; the device
 *       asks the guest for a connection to that port and, once the guest accepts, answers {@code OK
 *       <hostport>\n}. Then the socket carries the stream.
 *   <li>A guest connection to host port P is connected to the Unix socket {@code <udsPath>_P}; if
 *       nothing listens there the guest gets a reset.
 * </ul>
 *
 * <p>Queue 0 carries packets to the guest, 1 from it, 2 (events) is unused. Credit flow control
 * holds in both directions. Host sockets are watched by a {@link Selector} on a thread the VM
 * provides ({@link #runHostLoop()}); all state changes happen under the device's lock, like every
 * other device entry point.
 */
public final class VirtioVsock implements VirtioDevice, Closeable {
  private static final System.Logger LOG = System.getLogger(VirtioVsock.class.getName());

  static final int RX = 0;
  static final int TX = 1;
  static final int QUEUE_SIZE = 256;
  static final long HOST_CID = 2;
  static final int MAX_PAYLOAD = 64 * 1024;
  private static final int MAX_CONNECT_LINE = 32;
  private static final int FIRST_LOCAL_PORT = 1 << 30;

  private final VsockConfig config;
  private final Selector selector;
  private final ServerSocketChannel listener;
  private final Map<Long, VsockConnection> conns = new HashMap<>();
  private final List<VsockConnection> awaitingLine = new ArrayList<>();
  private final Deque<VsockHeader> control = new ArrayDeque<>();
  private int nextLocalPort = FIRST_LOCAL_PORT;
  private DeviceContext ctx;

  /** Binds {@code config.udsPath()}, replacing a stale socket file there. */
  public VirtioVsock(VsockConfig config) throws IOException {
    this.config = config;
    Files.deleteIfExists(config.udsPath());
    this.selector = Selector.open();
    this.listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    listener.bind(UnixDomainSocketAddress.of(config.udsPath()));
    listener.configureBlocking(false);
    listener.register(selector, SelectionKey.OP_ACCEPT);
  }

  @Override
  public int deviceType() {
    return DeviceType.VSOCK;
  }

  @Override
  public long deviceFeatures() {
    return 0;
  }

  @Override
  public int[] queueMaxSizes() {
    return new int[] {QUEUE_SIZE, QUEUE_SIZE, QUEUE_SIZE};
  }

  @Override
  public int configSize() {
    return 8;
  }

  @Override
  public void readConfig(int offset, byte[] data) {
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (config.guestCid() >>> (8 * (offset + i)));
    }
  }

  @Override
  public void writeConfig(int offset, byte[] data) {}

  @Override
  public synchronized void activate(DeviceContext context) {
    this.ctx = context;
  }

  @Override
  public synchronized void queueNotified(int index) {
    if (ctx == null) {
      return;
    }
    if (index == TX) {
      QueueDrain.drain(ctx, TX, this::fromGuest);
    }
    if (index == TX || index == RX) {
      toGuest();
    }
  }

  @Override
  public synchronized void reset() {
    ctx = null;
    conns.values().forEach(VsockConnection::close);
    conns.clear();
    awaitingLine.forEach(VsockConnection::close);
    awaitingLine.clear();
    control.clear();
  }

  /** Serves host sockets until {@link #close()}; the VM runs it on a thread of its own. */
  public void runHostLoop() {
    while (selector.isOpen()) {
      try {
        pollHost(0);
      } catch (IOException | java.nio.channels.ClosedSelectorException e) {
        if (selector.isOpen()) {
          LOG.log(
              System.Logger.Level.WARNING,
              "vsock host loop on {0} stopped: {1}",
              config.udsPath(),
              e.toString());
        }
        return;
      }
    }
  }

  /**
   * Waits up to {@code timeoutMillis} (0: indefinitely) for host socket events and handles them.
   */
  public void pollHost(long timeoutMillis) throws IOException {
    selector.select(timeoutMillis);
    synchronized (this) {
      for (SelectionKey key : selector.selectedKeys()) {
        if (!key.isValid()) {
          continue;
        }
        if (key.channel() == listener) {
          acceptHosts();
        } else {
          hostEvent((VsockConnection) key.attachment(), key);
        }
      }
      selector.selectedKeys().clear();
      if (ctx != null) {
        toGuest();
      }
    }
  }

  @Override
  public void close() throws IOException {
    synchronized (this) {
      reset();
    }
    selector.close();
    listener.close();
    Files.deleteIfExists(config.udsPath());
  }

  // ---- host side -------------------------------------------------------------------------------

  private void acceptHosts() throws IOException {
    SocketChannel ch;
    while ((ch = listener.accept()) != null) {
      if (ctx == null) {
        ch.close(); // no guest driver to connect to
        continue;
      }
      ch.configureBlocking(false);
      VsockConnection c = new VsockConnection(ch, VsockConnection.State.AWAIT_CONNECT_LINE);
      c.key = ch.register(selector, SelectionKey.OP_READ, c);
      awaitingLine.add(c);
    }
  }

  private void hostEvent(VsockConnection c, SelectionKey key) {
    try {
      if (c.state == VsockConnection.State.AWAIT_CONNECT_LINE) {
        readConnectLine(c);
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

  private void readConnectLine(VsockConnection c) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(MAX_CONNECT_LINE + 1);
    int n = c.channel.read(buf);
    if (n < 0) {
      dropAwaiting(c);
      return;
    }
    byte[] got = new byte[buf.position()];
    buf.flip().get(got);
    for (int i = 0; i < got.length; i++) {
      if (got[i] != '\n') {
        c.connectLine.append((char) (got[i] & 0xff));
        if (c.connectLine.length() > MAX_CONNECT_LINE) {
          dropAwaiting(c);
          return;
        }
        continue;
      }
      String line = c.connectLine.toString();
      int port;
      try {
        if (!line.startsWith("CONNECT ")) {
          throw new NumberFormatException(line);
        }
        port = Integer.parseUnsignedInt(line.substring(8).trim());
      } catch (NumberFormatException e) {
        dropAwaiting(c);
        return;
      }
      awaitingLine.remove(c);
      c.hostLeftover = java.util.Arrays.copyOfRange(got, i + 1, got.length);
      c.localPort = allocateLocalPort(port);
      c.peerPort = port;
      c.state = VsockConnection.State.LOCAL_INIT;
      c.key.interestOps(0);
      conns.put(c.key(), c);
      control.add(header(c, OP_REQUEST, 0, 0));
      return;
    }
  }

  private void dropAwaiting(VsockConnection c) {
    awaitingLine.remove(c);
    c.close();
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
    c.flushToHost();
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
      control.add(header(c, OP_CREDIT_UPDATE, 0, 0));
    }
  }

  private void resetConnection(VsockConnection c, String why) {
    LOG.log(System.Logger.Level.DEBUG, "vsock {0}<->{1} reset: {2}", c.localPort, c.peerPort, why);
    c.close();
    if (conns.remove(c.key()) != null) {
      control.add(header(c, OP_RST, 0, 0));
    }
  }

  // ---- guest to host ---------------------------------------------------------------------------

  private int fromGuest(DescriptorChain chain) {
    if (chain.readableBytes() < VsockHeader.SIZE) {
      return 0;
    }
    byte[] hb = new byte[VsockHeader.SIZE];
    chain.read(ctx.memory(), 0, hb, 0, hb.length);
    VsockHeader h = VsockHeader.decode(hb);
    if (h.srcCid() != config.guestCid() || h.dstCid() != HOST_CID) {
      return 0; // not addressed to us: drop, as Firecracker does
    }
    int len = h.len();
    if (h.type() != TYPE_STREAM
        || len < 0
        || len > MAX_PAYLOAD
        || len > chain.readableBytes() - VsockHeader.SIZE) {
      VsockConnection c = conns.get(VsockConnection.keyOf(h.dstPort(), h.srcPort()));
      if (c != null) {
        resetConnection(c, "malformed packet: type " + h.type() + ", len " + len);
      } else {
        replyRst(h);
      }
      return 0;
    }
    byte[] data = new byte[len];
    chain.read(ctx.memory(), VsockHeader.SIZE, data, 0, len);
    onGuestPacket(h, data);
    return 0;
  }

  private void onGuestPacket(VsockHeader h, byte[] data) {
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
          ByteBuffer ok =
              ByteBuffer.wrap(
                  ("OK " + Integer.toUnsignedString(c.localPort) + "\n")
                      .getBytes(StandardCharsets.US_ASCII));
          c.channel.write(ok);
          if (ok.hasRemaining()) {
            resetConnection(c, "host socket would not take the OK line");
            return;
          }
          c.hostReadable = c.hostLeftover.length > 0;
          c.key.interestOps(SelectionKey.OP_READ);
          selector.wakeup();
        }
        case OP_RW -> {
          if (c.state != VsockConnection.State.ESTABLISHED || c.guestShutSend) {
            resetConnection(c, "RW before the connection is up or after SHUTDOWN");
            return;
          }
          if (data.length > c.toHost.remaining()) {
            resetConnection(
                c,
                "guest overran its credit by " + (data.length - c.toHost.remaining()) + " bytes");
            return;
          }
          c.toHost.put(data);
          flushToHost(c);
        }
        case OP_CREDIT_UPDATE -> {}
        case OP_CREDIT_REQUEST -> control.add(header(c, OP_CREDIT_UPDATE, 0, 0));
        case OP_SHUTDOWN -> {
          if ((h.flags() & (SHUTDOWN_RCV | SHUTDOWN_SEND)) == (SHUTDOWN_RCV | SHUTDOWN_SEND)) {
            c.flushToHost(); // best effort; the guest is closing
            resetConnection(c, "guest closed");
          } else if ((h.flags() & SHUTDOWN_SEND) != 0) {
            c.guestShutSend = true;
            flushToHost(c);
          }
        }
        case OP_RST -> {
          c.close();
          conns.remove(c.key());
        }
        default -> resetConnection(c, "unknown op " + h.op());
      }
    } catch (IOException e) {
      resetConnection(c, "host socket: " + e.getMessage());
    }
  }

  private void connectToHost(VsockHeader h) {
    UnixDomainSocketAddress target =
        UnixDomainSocketAddress.of(config.udsPath() + "_" + Integer.toUnsignedString(h.dstPort()));
    SocketChannel ch = null;
    try {
      ch = SocketChannel.open(StandardProtocolFamily.UNIX);
      ch.connect(target);
      ch.configureBlocking(false);
      VsockConnection c = new VsockConnection(ch, VsockConnection.State.ESTABLISHED);
      c.localPort = h.dstPort();
      c.peerPort = h.srcPort();
      c.updatePeerCredit(h);
      c.key = ch.register(selector, SelectionKey.OP_READ, c);
      selector.wakeup();
      conns.put(c.key(), c);
      control.add(header(c, OP_RESPONSE, 0, 0));
    } catch (IOException e) {
      LOG.log(
          System.Logger.Level.DEBUG,
          "vsock guest connect to {0} refused: {1}",
          target,
          e.getMessage());
      if (ch != null) {
        try {
          ch.close();
        } catch (IOException ignored) {
          // already failing
        }
      }
      replyRst(h);
    }
  }

  private void replyRst(VsockHeader h) {
    if (h.op() != OP_RST) {
      control.add(
          new VsockHeader(
              HOST_CID,
              config.guestCid(),
              h.dstPort(),
              h.srcPort(),
              0,
              TYPE_STREAM,
              OP_RST,
              0,
              0,
              0));
    }
  }

  // ---- host to guest ---------------------------------------------------------------------------

  /** Fills receive buffers with control packets first, then data from host sockets. */
  private void toGuest() {
    Virtqueue q = ctx.queue(RX);
    if (ctx.broken() || !q.active()) {
      return;
    }
    boolean used = false;
    try {
      while (true) {
        VsockConnection data = control.isEmpty() ? readyToSend() : null;
        if (control.isEmpty() && data == null) {
          break;
        }
        DescriptorChain chain;
        try {
          chain = q.pop();
        } catch (InvalidChainException e) {
          q.addUsed(e.head(), 0);
          used = true;
          continue;
        }
        if (chain == null) {
          if (q.enableNotification()) {
            continue;
          }
          break;
        }
        if (chain.readableBytes() != 0 || chain.writableBytes() < VsockHeader.SIZE) {
          q.addUsed(chain.head(), 0);
          used = true;
          continue;
        }
        int written = data == null ? sendControl(chain) : sendData(data, chain);
        if (written < 0) {
          q.undoPop();
          continue;
        }
        q.addUsed(chain.head(), written);
        used = true;
      }
    } catch (QueueBrokenException e) {
      ctx.markBroken("rx queue: " + e.getMessage());
      return;
    }
    if (used) {
      ctx.signalUsed(RX);
    }
  }

  private VsockConnection readyToSend() {
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

  private int sendControl(DescriptorChain chain) {
    byte[] h = control.poll().encode();
    chain.write(ctx.memory(), 0, h, 0, h.length);
    return h.length;
  }

  /** Moves host bytes into {@code chain}; -1 when the socket had none after all. */
  private int sendData(VsockConnection c, DescriptorChain chain) {
    int max =
        Math.min(Math.min(chain.writableBytes() - VsockHeader.SIZE, c.peerCredit()), MAX_PAYLOAD);
    byte[] payload;
    if (c.hostLeftover.length > 0) {
      int n = Math.min(max, c.hostLeftover.length);
      payload = java.util.Arrays.copyOf(c.hostLeftover, n);
      c.hostLeftover = java.util.Arrays.copyOfRange(c.hostLeftover, n, c.hostLeftover.length);
    } else {
      ByteBuffer buf = ByteBuffer.allocate(max);
      int n;
      try {
        n = c.channel.read(buf);
      } catch (IOException e) {
        n = -1;
      }
      if (n == 0) {
        c.hostReadable = false;
        c.key.interestOps(c.key.interestOps() | SelectionKey.OP_READ);
        selector.wakeup();
        return -1;
      }
      if (n < 0) {
        c.hostEof = true;
        byte[] h = header(c, OP_SHUTDOWN, SHUTDOWN_RCV | SHUTDOWN_SEND, 0).encode();
        chain.write(ctx.memory(), 0, h, 0, h.length);
        return h.length;
      }
      payload = java.util.Arrays.copyOf(buf.array(), n);
    }
    byte[] h = header(c, OP_RW, 0, payload.length).encode();
    chain.write(ctx.memory(), 0, h, 0, h.length);
    chain.write(ctx.memory(), h.length, payload, 0, payload.length);
    c.txCnt += payload.length;
    return h.length + payload.length;
  }

  private VsockHeader header(VsockConnection c, int op, int flags, int len) {
    c.lastAdvertisedFwdCnt = c.fwdCnt;
    return new VsockHeader(
        HOST_CID,
        config.guestCid(),
        c.localPort,
        c.peerPort,
        len,
        TYPE_STREAM,
        op,
        flags,
        VsockConnection.BUF_ALLOC,
        c.fwdCnt);
  }
}
