package dev.hearth.vmm.devices.virtio.vsock;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One stream between a guest port and a host Unix socket, with virtio-vsock credit accounting in
 * both directions. Used only under the device's lock.
 */
final class VsockConnection {
  /** Our receive buffer, advertised to the guest as buf_alloc: the most guest data we hold. */
  static final int BUF_ALLOC = 256 * 1024;

  private static final int MIN_BUFFER = 4096;

  enum State {
    /** Host connected to the main socket; waiting for its {@code CONNECT <port>} line. */
    AWAIT_CONNECT_LINE,
    /** We sent the guest a REQUEST; waiting for RESPONSE. */
    LOCAL_INIT,
    ESTABLISHED
  }

  final SocketChannel channel;
  SelectionKey key;
  State state;
  int localPort;
  int peerPort;

  /**
   * Guest bytes the host socket has not taken yet (write mode), or null when there are none: a
   * connection whose host side keeps up holds no buffer at all, and one that falls behind holds
   * only what is pending, never more than the {@link #BUF_ALLOC} of credit the guest was given.
   */
  private ByteBuffer toHost;

  /** Host bytes read with the CONNECT line that belong to the stream. */
  byte[] hostLeftover = new byte[0];

  final StringBuilder connectLine = new StringBuilder();
  boolean hostReadable;
  boolean hostEof;
  boolean guestShutSend;

  /** Control packets waiting for this connection: bit {@code 1 << op} ({@link VsockControl}). */
  int pendingControl;

  int fwdCnt;
  int lastAdvertisedFwdCnt;
  int peerBufAlloc;
  int peerFwdCnt;
  int txCnt;

  VsockConnection(SocketChannel channel, State state) {
    this.channel = channel;
    this.state = state;
  }

  /**
   * Connects to the host program listening for guest port {@code port} at {@code <udsPath>_<port>},
   * without blocking: a Unix connect completes at once or fails (EAGAIN while the listener's
   * backlog is full). Empty when nothing is bound there, the common refusal, answered without a
   * failed connect and its exception.
   *
   * @throws IOException if the connect fails; no socket is left open
   */
  static Optional<SocketChannel> connectHost(Path udsPath, int port) throws IOException {
    UnixDomainSocketAddress target =
        UnixDomainSocketAddress.of(udsPath + "_" + Integer.toUnsignedString(port));
    if (!Files.exists(target.getPath())) {
      return Optional.empty();
    }
    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      // Never block the device (and its lock, and so the VM's stop) on a host listener.
      ch.configureBlocking(false);
      if (!ch.connect(target)) {
        throw new IOException("connect to " + target + " did not complete at once");
      }
      return Optional.of(ch);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  long key() {
    return keyOf(localPort, peerPort);
  }

  static long keyOf(int localPort, int peerPort) {
    return (long) localPort << 32 | (peerPort & 0xffffffffL);
  }

  /** Bytes the guest will still accept from us. */
  int peerCredit() {
    long free = (peerBufAlloc & 0xffffffffL) - ((txCnt - peerFwdCnt) & 0xffffffffL);
    return (int) Math.max(0, Math.min(free, Integer.MAX_VALUE));
  }

  void updatePeerCredit(VsockHeader h) {
    peerBufAlloc = h.bufAlloc();
    peerFwdCnt = h.fwdCnt();
  }

  /**
   * Up to {@code max} host bytes for the guest: an empty array when the socket had none after all
   * (it is watched again), null at end of stream.
   */
  byte[] takeHostBytes(int max) {
    if (hostLeftover.length > 0) {
      int n = Math.min(max, hostLeftover.length);
      byte[] payload = java.util.Arrays.copyOf(hostLeftover, n);
      hostLeftover = java.util.Arrays.copyOfRange(hostLeftover, n, hostLeftover.length);
      return payload;
    }
    ByteBuffer buf = ByteBuffer.allocate(max);
    int n;
    try {
      n = channel.read(buf);
    } catch (IOException e) {
      n = -1;
    }
    if (n == 0) {
      hostReadable = false;
      key.interestOps(key.interestOps() | SelectionKey.OP_READ);
      key.selector().wakeup();
      return new byte[0];
    }
    if (n < 0) {
      hostEof = true;
      return null;
    }
    return java.util.Arrays.copyOf(buf.array(), n);
  }

  /** Guest bytes waiting for the host socket. */
  int pendingToHost() {
    return toHost == null ? 0 : toHost.position();
  }

  /** Heap bytes this connection's buffer holds. */
  int bufferCapacity() {
    return toHost == null ? 0 : toHost.capacity();
  }

  /** The buffer capacity needed to add {@code more} pending bytes ({@link #pendingToHost}). */
  int capacityFor(int more) {
    int need = pendingToHost() + more;
    if (need <= bufferCapacity()) {
      return bufferCapacity();
    }
    return Math.min(BUF_ALLOC, Math.max(need, Math.max(2 * bufferCapacity(), MIN_BUFFER)));
  }

  /**
   * Passes {@code data[off, off + len)} to the host socket: what it takes now goes straight
   * through, the rest is buffered (growing the buffer to {@link #capacityFor}); the caller has
   * checked the credit and the device's budget. Returns the bytes buffered.
   */
  int send(byte[] data, int off, int len) throws IOException {
    int written = 0;
    if (pendingToHost() == 0) {
      written = channel.write(ByteBuffer.wrap(data, off, len));
      fwdCnt += written;
    }
    int rest = len - written;
    if (rest > 0) {
      int cap = capacityFor(rest);
      if (cap != bufferCapacity()) {
        ByteBuffer grown = ByteBuffer.allocate(cap);
        if (toHost != null) {
          grown.put(toHost.flip());
        }
        toHost = grown;
      }
      toHost.put(data, off + written, rest);
    }
    return rest;
  }

  /**
   * Writes as much of the pending bytes to the socket as it takes now and frees the buffer once
   * empty; returns the bytes written.
   */
  int flushToHost() throws IOException {
    if (toHost == null) {
      return 0;
    }
    toHost.flip();
    int n;
    try {
      n = channel.write(toHost);
    } finally {
      toHost.compact();
    }
    fwdCnt += n;
    if (toHost.position() == 0) {
      toHost = null;
    }
    return n;
  }

  boolean hasPendingToHost() {
    return pendingToHost() > 0;
  }

  /** Closes the socket and frees the buffer. */
  void close() {
    toHost = null;
    if (key != null) {
      key.cancel();
    }
    try {
      channel.close();
    } catch (IOException e) {
      // Nothing to do: the peer is gone either way.
    }
  }
}
