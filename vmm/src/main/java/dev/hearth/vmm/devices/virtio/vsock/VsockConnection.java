package dev.hearth.vmm.devices.virtio.vsock;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * One stream between a guest port and a host Unix socket, with virtio-vsock credit accounting in
 * both directions. Used only under the device's lock.
 */
final class VsockConnection {
  /** Our receive buffer, advertised to the guest as buf_alloc. */
  static final int BUF_ALLOC = 256 * 1024;

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

  /** Guest bytes not yet written to the host socket (flip/compact discipline: write mode). */
  final ByteBuffer toHost = ByteBuffer.allocate(BUF_ALLOC);

  /** Host bytes read with the CONNECT line that belong to the stream. */
  byte[] hostLeftover = new byte[0];

  final StringBuilder connectLine = new StringBuilder();
  boolean hostReadable;
  boolean hostEof;
  boolean guestShutSend;

  int fwdCnt;
  int lastAdvertisedFwdCnt;
  int peerBufAlloc;
  int peerFwdCnt;
  int txCnt;

  VsockConnection(SocketChannel channel, State state) {
    this.channel = channel;
    this.state = state;
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

  /** Writes as much of {@link #toHost} to the socket as it takes now; returns the bytes written. */
  int flushToHost() throws IOException {
    toHost.flip();
    int n;
    try {
      n = channel.write(toHost);
    } finally {
      toHost.compact();
    }
    fwdCnt += n;
    return n;
  }

  boolean hasPendingToHost() {
    return toHost.position() > 0;
  }

  void close() {
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
