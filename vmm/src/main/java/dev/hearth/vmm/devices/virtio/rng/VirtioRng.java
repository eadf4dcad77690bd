package dev.hearth.vmm.devices.virtio.rng;

import dev.hearth.vmm.devices.virtio.DeviceContext;
import dev.hearth.vmm.devices.virtio.DeviceType;
import dev.hearth.vmm.devices.virtio.QueueDrain;
import dev.hearth.vmm.devices.virtio.VirtioDevice;
import dev.hearth.vmm.devices.virtio.queue.DescriptorChain;
import dev.hearth.vmm.ratelimit.Clock;
import dev.hearth.vmm.ratelimit.RateLimiter;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import dev.hearth.vmm.ratelimit.RefillTimer;
import dev.hearth.vmm.ratelimit.TokenType;

/**
 * virtio-rng (entropy device, ID 4): one request queue whose device-writable buffers it fills from
 * an {@link EntropySource}, at most {@link #MAX_REQUEST_BYTES} per request, optionally rate limited
 * (one op plus the bytes per request).
 */
public final class VirtioRng implements VirtioDevice {
  /** Bytes served per request at most; a larger buffer gets this many (the used length says so). */
  public static final int MAX_REQUEST_BYTES = 64 * 1024;

  static final int QUEUE_SIZE = 256;

  private final EntropySource source;
  private final RateLimiter limiter;
  private DeviceContext ctx;

  /**
   * @param timers makes the rate limiter's refill timer (the VM's event loop)
   */
  public VirtioRng(
      EntropySource source, RateLimiterConfig limit, Clock clock, RefillTimer.Factory timers) {
    this.source = source;
    this.limiter = new RateLimiter(limit, clock, timers.create(this::onRefillTimer));
  }

  /** The rate limiter, for live updates. */
  public RateLimiter rateLimiter() {
    return limiter;
  }

  @Override
  public int deviceType() {
    return DeviceType.RNG;
  }

  @Override
  public long deviceFeatures() {
    return 0;
  }

  @Override
  public int[] queueMaxSizes() {
    return new int[] {QUEUE_SIZE};
  }

  @Override
  public int configSize() {
    return 0;
  }

  @Override
  public void readConfig(int offset, byte[] data) {}

  @Override
  public void writeConfig(int offset, byte[] data) {}

  @Override
  public synchronized void activate(DeviceContext context) {
    this.ctx = context;
  }

  @Override
  public synchronized void queueNotified(int index) {
    if (ctx != null && index == 0) {
      QueueDrain.drain(ctx, 0, this::serve);
    }
  }

  @Override
  public synchronized void reset() {
    ctx = null;
  }

  private synchronized void onRefillTimer() {
    limiter.onTimerExpired();
    queueNotified(0);
  }

  private int serve(DescriptorChain chain) {
    int len = Math.min(chain.writableBytes(), MAX_REQUEST_BYTES);
    if (len == 0) {
      return 0;
    }
    if (!limiter.consume(1, TokenType.OPS)) {
      return QueueDrain.STOP;
    }
    if (!limiter.consume(len, TokenType.BYTES)) {
      limiter.replenish(1, TokenType.OPS);
      return QueueDrain.STOP;
    }
    byte[] bytes = new byte[len];
    source.fill(bytes);
    chain.write(ctx.memory(), 0, bytes, 0, len);
    return len;
  }
}
