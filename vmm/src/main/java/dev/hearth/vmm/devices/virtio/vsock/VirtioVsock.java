package dev.hearth.vmm.devices.virtio.vsock;

import static dev.hearth.vmm.devices.virtio.vsock.VsockHeader.*;

import dev.hearth.vmm.devices.virtio.DeviceContext;
import dev.hearth.vmm.devices.virtio.DeviceType;
import dev.hearth.vmm.devices.virtio.QueueDrain;
import dev.hearth.vmm.devices.virtio.VirtioDevice;
import dev.hearth.vmm.devices.virtio.queue.DescriptorChain;
import dev.hearth.vmm.snapshot.SnapshotException;
import dev.hearth.vmm.snapshot.Snapshottable;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.Selector;
import java.util.function.Consumer;

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
public final class VirtioVsock implements VirtioDevice, Closeable, Snapshottable<VsockState> {
  private static final System.Logger LOG = System.getLogger(VirtioVsock.class.getName());

  static final int RX = 0;
  static final int TX = 1;
  static final int EVENT = 2;
  static final int EVENT_TRANSPORT_RESET = 0;
  static final int QUEUE_SIZE = 256;
  static final long HOST_CID = 2;
  static final int MAX_PAYLOAD = 64 * 1024;

  private final VsockConfig config;
  private final VsockMuxer muxer;
  private DeviceContext ctx;
  private boolean resetPending;

  /**
   * Binds {@code config.udsPath()}, replacing a stale socket there but never a live one or another
   * file: that fails with an IOException.
   */
  public VirtioVsock(VsockConfig config) throws IOException {
    this.config = config;
    this.muxer = new VsockMuxer(config);
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
  public synchronized VsockState saveState() {
    return new VsockState(config.guestCid());
  }

  /** Restored connections are none: the guest is told so once the device runs again. */
  @Override
  public synchronized void restoreState(VsockState state) {
    if (state.guestCid() != config.guestCid()) {
      throw new SnapshotException(
          "vsock: the snapshot's guest CID is "
              + state.guestCid()
              + ", the restored VM's "
              + config.guestCid());
    }
    resetPending = true;
  }

  @Override
  public synchronized void activate(DeviceContext context) {
    this.ctx = context;
    muxer.log = context.log();
    sendTransportReset();
  }

  /** Puts a pending TRANSPORT_RESET event in the event queue, once it has a buffer. */
  private void sendTransportReset() {
    if (!resetPending) {
      return;
    }
    QueueDrain.fill(
        ctx,
        EVENT,
        () -> resetPending,
        chain -> {
          if (chain.writableBytes() < 4) {
            return 0;
          }
          chain.write(ctx.memory(), 0, new byte[] {EVENT_TRANSPORT_RESET, 0, 0, 0}, 0, 4);
          resetPending = false;
          return 4;
        });
  }

  @Override
  public synchronized void queueNotified(int index) {
    if (ctx == null) {
      return;
    }
    if (index == EVENT) {
      sendTransportReset();
    } else if (index == TX || index == RX) {
      // Guest packets wait in their ring while the answers they may need have nowhere to go; new
      // receive buffers let both move again.
      toGuest();
      if (QueueDrain.drain(ctx, TX, this::fromGuest)) {
        toGuest();
        QueueDrain.drain(ctx, TX, this::fromGuest);
      }
      toGuest();
    }
  }

  @Override
  public synchronized void reset() {
    ctx = null;
    muxer.clear();
  }

  /**
   * Serves host sockets until {@link #close()}; the VM runs it on a thread of its own. Anything
   * else that ends it (a selector failure, an Error) is logged and handed to {@code onDeath}, on
   * this thread: the device no longer serves the host, and the VM must not go on as if it did.
   */
  public void runHostLoop(Consumer<String> onDeath) {
    try {
      while (muxer.open()) {
        pollHost(0);
      }
    } catch (Throwable t) {
      if (muxer.open()) {
        String why = "vsock host loop on " + config.udsPath() + " died: " + t;
        LOG.log(System.Logger.Level.ERROR, why, t);
        onDeath.accept(why);
      }
    }
  }

  /**
   * Waits up to {@code timeoutMillis} (0: indefinitely; negative: not at all) for host socket
   * events and handles them.
   */
  public void pollHost(long timeoutMillis) throws IOException {
    muxer.select(timeoutMillis);
    synchronized (this) {
      muxer.handleSelected(ctx != null);
      if (ctx != null) {
        toGuest();
      }
    }
  }

  @Override
  public void close() throws IOException {
    synchronized (this) {
      ctx = null;
      muxer.close();
    }
  }

  /** Control packets waiting for receive buffers (tests). */
  synchronized int pendingControl() {
    return muxer.pendingControl();
  }

  /** Open connections, including host ones still sending their CONNECT line (tests). */
  synchronized int connectionCount() {
    return muxer.connectionCount();
  }

  /** Heap bytes held in buffers for guest data not yet written to host sockets (tests). */
  synchronized long bufferedBytes() {
    return muxer.bufferedBytes();
  }

  // ---- guest to host ---------------------------------------------------------------------------

  private int fromGuest(DescriptorChain chain) {
    if (muxer.controlFull()) {
      return QueueDrain.STOP;
    }
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
      muxer.malformed(h, "type " + h.type() + ", len " + len);
      return 0;
    }
    byte[] data = new byte[len];
    chain.read(ctx.memory(), VsockHeader.SIZE, data, 0, len);
    muxer.onGuestPacket(h, data);
    return 0;
  }

  // ---- host to guest ---------------------------------------------------------------------------

  /** Fills receive buffers with control packets first, then data from host sockets. */
  private void toGuest() {
    QueueDrain.fill(ctx, RX, () -> muxer.hasControl() || muxer.readyToSend() != null, this::fillRx);
  }

  private int fillRx(DescriptorChain chain) {
    if (chain.readableBytes() != 0 || chain.writableBytes() < VsockHeader.SIZE) {
      return 0; // not a receive buffer: give it back empty
    }
    if (muxer.hasControl()) {
      return sendControl(chain);
    }
    VsockConnection data = muxer.readyToSend();
    return data == null ? QueueDrain.RETRY : sendData(data, chain);
  }

  private int sendControl(DescriptorChain chain) {
    byte[] h = muxer.pollControl().encode();
    chain.write(ctx.memory(), 0, h, 0, h.length);
    return h.length;
  }

  /** Moves host bytes into {@code chain}; {@link QueueDrain#RETRY} when the socket had none. */
  private int sendData(VsockConnection c, DescriptorChain chain) {
    int max =
        Math.min(Math.min(chain.writableBytes() - VsockHeader.SIZE, c.peerCredit()), MAX_PAYLOAD);
    byte[] payload = c.takeHostBytes(max);
    if (payload == null) {
      byte[] h = muxer.header(c, OP_SHUTDOWN, SHUTDOWN_RCV | SHUTDOWN_SEND, 0).encode();
      chain.write(ctx.memory(), 0, h, 0, h.length);
      return h.length;
    }
    if (payload.length == 0) {
      return QueueDrain.RETRY;
    }
    byte[] h = muxer.header(c, OP_RW, 0, payload.length).encode();
    chain.write(ctx.memory(), 0, h, 0, h.length);
    chain.write(ctx.memory(), h.length, payload, 0, payload.length);
    c.txCnt += payload.length;
    return h.length + payload.length;
  }
}
