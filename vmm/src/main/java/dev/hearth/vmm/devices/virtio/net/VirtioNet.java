package dev.hearth.vmm.devices.virtio.net;

import dev.hearth.vmm.devices.DeviceLog;
import dev.hearth.vmm.devices.virtio.DeviceContext;
import dev.hearth.vmm.devices.virtio.DeviceType;
import dev.hearth.vmm.devices.virtio.QueueDrain;
import dev.hearth.vmm.devices.virtio.VirtioDevice;
import dev.hearth.vmm.devices.virtio.VirtioFeatures;
import dev.hearth.vmm.devices.virtio.queue.DescriptorChain;
import dev.hearth.vmm.ratelimit.Clock;
import dev.hearth.vmm.ratelimit.RateLimiter;
import dev.hearth.vmm.ratelimit.RefillTimer;
import dev.hearth.vmm.snapshot.Snapshottable;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * virtio-net (ID 1) on a {@link NetBackend} (a tap with vnet headers): queue 0 receives, queue 1
 * transmits, each with its own rate limiter. Frames cross the device with their 12-byte {@code
 * virtio_net_hdr_v1} as is, so checksum and segmentation offloads work end to end as far as the tap
 * allows; the device offers only the offloads the backend supports and tells the tap which ones the
 * guest accepted.
 *
 * <p>Events: the VM registers the backend's fd edge-triggered and calls {@link
 * #onBackendReadable()}; queue notifications and refill timers arrive as for every device. A frame
 * read from the tap while the guest has no receive buffer is held until it posts one.
 */
public final class VirtioNet implements VirtioDevice, java.io.Closeable, Snapshottable<NetState> {
  private static final System.Logger LOG = System.getLogger(VirtioNet.class.getName());

  public static final int F_CSUM = 0;
  public static final int F_GUEST_CSUM = 1;
  public static final int F_MAC = 5;
  public static final int F_GUEST_TSO4 = 7;
  public static final int F_GUEST_TSO6 = 8;
  public static final int F_GUEST_ECN = 9;
  public static final int F_GUEST_UFO = 10;
  public static final int F_HOST_TSO4 = 11;
  public static final int F_HOST_TSO6 = 12;
  public static final int F_HOST_ECN = 13;
  public static final int F_HOST_UFO = 14;

  static final int TUN_F_CSUM = 0x01;
  static final int TUN_F_TSO4 = 0x02;
  static final int TUN_F_TSO6 = 0x04;
  static final int TUN_F_TSO_ECN = 0x08;
  static final int TUN_F_UFO = 0x10;

  /** Bytes of {@code virtio_net_hdr_v1} before every frame. */
  public static final int VNET_HDR_SIZE = 12;

  /** The largest frame with its header: a 64 KiB GSO frame plus Ethernet and VLAN headers. */
  public static final int MAX_FRAME = 65562;

  static final int RX = 0;
  static final int TX = 1;
  static final int QUEUE_SIZE = 256;

  private static final long OFFLOADS =
      mask(F_CSUM, F_GUEST_CSUM, F_GUEST_TSO4, F_GUEST_TSO6, F_GUEST_ECN, F_GUEST_UFO)
          | mask(F_HOST_TSO4, F_HOST_TSO6, F_HOST_ECN, F_HOST_UFO);

  private final NetBackend backend;
  private final byte[] mac;
  private final RateLimiter rxLimiter;
  private final RateLimiter txLimiter;
  // Direct, so that a tap reads into it without a copy on the way.
  private final ByteBuffer rxFrame = ByteBuffer.allocateDirect(MAX_FRAME);
  private final MemorySegment rxFrameMemory = MemorySegment.ofBuffer(rxFrame);
  private int rxFrameLen;
  private final NetCounters counters = new NetCounters();
  private DeviceContext ctx;
  private DeviceLog lastLog = new DeviceLog("unactivated virtio-net");

  public VirtioNet(NetBackend backend, NetConfig config, Clock clock, RefillTimer.Factory timers) {
    this.backend = backend;
    this.mac = config.mac().octets();
    this.rxLimiter = new RateLimiter(config.rxRateLimit(), clock, timers.create(this::onRxTimer));
    this.txLimiter = new RateLimiter(config.txRateLimit(), clock, timers.create(this::onTxTimer));
  }

  public RateLimiter rxRateLimiter() {
    return rxLimiter;
  }

  public RateLimiter txRateLimiter() {
    return txLimiter;
  }

  /** Frame and error counts, for metrics. */
  public NetCounters counters() {
    return counters;
  }

  @Override
  public int deviceType() {
    return DeviceType.NET;
  }

  @Override
  public long deviceFeatures() {
    return VirtioFeatures.bit(F_MAC) | (backend.offloadFeatures() & OFFLOADS);
  }

  @Override
  public int[] queueMaxSizes() {
    return new int[] {QUEUE_SIZE, QUEUE_SIZE};
  }

  @Override
  public int configSize() {
    return 6;
  }

  @Override
  public void readConfig(int offset, byte[] data) {
    System.arraycopy(mac, offset, data, 0, data.length);
  }

  @Override
  public void writeConfig(int offset, byte[] data) {}

  @Override
  public synchronized NetState saveState() {
    return new NetState(rxLimiter.saveState(), txLimiter.saveState());
  }

  @Override
  public synchronized void restoreState(NetState state) {
    rxLimiter.restoreState(state.rx());
    txLimiter.restoreState(state.tx());
  }

  @Override
  public synchronized void activate(DeviceContext context) {
    this.ctx = context;
    this.lastLog = context.log();
    try {
      backend.setOffloads(tunFlags(context.features()));
    } catch (IOException e) {
      context.markBroken("cannot set tap offloads: " + e.getMessage());
      return;
    }
    // Frames may already be waiting, and an edge-triggered fd will not tell us again.
    receive();
  }

  @Override
  public synchronized void queueNotified(int index) {
    if (ctx == null) {
      return;
    }
    if (index == TX) {
      QueueDrain.drain(ctx, TX, this::transmit);
    } else if (index == RX) {
      receive();
    }
  }

  /** The tap has frames to read (an edge of its fd in the event loop). */
  public synchronized void onBackendReadable() {
    if (ctx != null) {
      receive();
    }
  }

  @Override
  public synchronized void reset() {
    ctx = null;
    rxFrameLen = 0;
  }

  /** Closes the backend (the tap). The VM calls it after it stopped the guest. */
  @Override
  public synchronized void close() throws IOException {
    ctx = null;
    backend.close();
  }

  private synchronized void onRxTimer() {
    rxLimiter.onTimerExpired();
    if (ctx != null) {
      receive();
    }
  }

  private synchronized void onTxTimer() {
    txLimiter.onTimerExpired();
    queueNotified(TX);
  }

  private int transmit(DescriptorChain chain) {
    int len = chain.readableBytes();
    if (chain.writableBytes() != 0 || len <= VNET_HDR_SIZE || len > MAX_FRAME) {
      counters.txDropped++;
      return 0;
    }
    if (!txLimiter.consumeRequest(len)) {
      return QueueDrain.STOP;
    }
    List<MemorySegment> segs = chain.readableSegments(ctx.memory(), 0, len);
    ByteBuffer[] frame = new ByteBuffer[segs.size()];
    for (int i = 0; i < frame.length; i++) {
      frame[i] = segs.get(i).asByteBuffer();
    }
    try {
      backend.write(frame);
      counters.txFrames++;
      counters.txBytes += len;
    } catch (IOException e) {
      // The tap is full or gone: drop the frame as a NIC would, and go on.
      counters.txErrors++;
      log().log(LOG, System.Logger.Level.DEBUG, "tap write failed: {0}", e.getMessage());
    }
    return 0;
  }

  /**
   * Moves frames from the tap into receive buffers until either runs out or the limiter says no.
   */
  private void receive() {
    QueueDrain.fill(ctx, RX, this::frameWaiting, this::receiveInto);
  }

  /** Whether a frame is held or the tap has one (read now); runt frames are dropped on the way. */
  private boolean frameWaiting() {
    while (rxFrameLen == 0) {
      if (!readFrame()) {
        return false;
      }
    }
    return true;
  }

  private int receiveInto(DescriptorChain chain) {
    return rxLimiter.consumeRequest(rxFrameLen) ? deliver(chain) : QueueDrain.STOP;
  }

  /** Reads the next frame from the tap into {@link #rxFrame}; false when none is waiting. */
  private boolean readFrame() {
    try {
      int n = backend.read(rxFrame.clear());
      if (n <= 0) {
        return false;
      }
      if (n <= VNET_HDR_SIZE) {
        counters.rxDropped++;
        return true; // rxFrameLen stays 0: the loop reads the next one
      }
      // The tap writes a 10-byte header; num_buffers (without MRG_RXBUF) is always 1.
      rxFrame.put(10, (byte) 1).put(11, (byte) 0);
      rxFrameLen = n;
      return true;
    } catch (IOException e) {
      counters.rxErrors++;
      log().log(LOG, System.Logger.Level.DEBUG, "tap read failed: {0}", e.getMessage());
      return false;
    }
  }

  /** Copies the held frame into {@code chain}; a chain that cannot hold it drops the frame. */
  private int deliver(DescriptorChain chain) {
    int len = rxFrameLen;
    rxFrameLen = 0;
    if (chain.readableBytes() != 0 || chain.writableBytes() < len) {
      counters.rxDropped++;
      return 0;
    }
    long at = 0;
    for (MemorySegment to : chain.writableSegments(ctx.memory(), 0, len)) {
      MemorySegment.copy(rxFrameMemory, at, to, 0, to.byteSize());
      at += to.byteSize();
    }
    counters.rxFrames++;
    counters.rxBytes += len;
    return len;
  }

  private static int tunFlags(long features) {
    int flags = 0;
    if (VirtioFeatures.has(features, F_GUEST_CSUM)) {
      flags |= TUN_F_CSUM;
      if (VirtioFeatures.has(features, F_GUEST_TSO4)) {
        flags |= TUN_F_TSO4;
      }
      if (VirtioFeatures.has(features, F_GUEST_TSO6)) {
        flags |= TUN_F_TSO6;
      }
      if (VirtioFeatures.has(features, F_GUEST_ECN)) {
        flags |= TUN_F_TSO_ECN;
      }
      if (VirtioFeatures.has(features, F_GUEST_UFO)) {
        flags |= TUN_F_UFO;
      }
    }
    return flags;
  }

  private static long mask(int... bits) {
    long m = 0;
    for (int b : bits) {
      m |= VirtioFeatures.bit(b);
    }
    return m;
  }

  /** The VM's device log (the last one given, after a reset). */
  private DeviceLog log() {
    return lastLog;
  }
}
