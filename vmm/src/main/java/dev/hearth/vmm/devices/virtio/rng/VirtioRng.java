package dev.hearth.vmm.devices.virtio.rng;

import dev.hearth.vmm.devices.virtio.DeviceType;
import dev.hearth.vmm.devices.virtio.QueueDrain;
import dev.hearth.vmm.devices.virtio.RequestQueueDevice;
import dev.hearth.vmm.devices.virtio.queue.DescriptorChain;
import dev.hearth.vmm.ratelimit.Clock;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import dev.hearth.vmm.ratelimit.RefillTimer;

/**
 * virtio-rng (entropy device, ID 4): one request queue whose device-writable buffers it fills from
 * an {@link EntropySource}, at most {@link #MAX_REQUEST_BYTES} per request, optionally rate limited
 * (one op plus the bytes per request).
 */
public final class VirtioRng extends RequestQueueDevice {
  /** Bytes served per request at most; a larger buffer gets this many (the used length says so). */
  public static final int MAX_REQUEST_BYTES = 64 * 1024;

  private final EntropySource source;

  /**
   * @param timers makes the rate limiter's refill timer (the VM's event loop)
   */
  public VirtioRng(
      EntropySource source, RateLimiterConfig limit, Clock clock, RefillTimer.Factory timers) {
    super(limit, clock, timers);
    this.source = source;
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
  public int configSize() {
    return 0;
  }

  @Override
  public void readConfig(int offset, byte[] data) {}

  @Override
  public void writeConfig(int offset, byte[] data) {}

  @Override
  protected int serve(DescriptorChain chain) {
    int len = Math.min(chain.writableBytes(), MAX_REQUEST_BYTES);
    if (len == 0) {
      return 0;
    }
    if (!rateLimiter().consumeRequest(len)) {
      return QueueDrain.STOP;
    }
    byte[] bytes = new byte[len];
    source.fill(bytes);
    chain.write(memory(), 0, bytes, 0, len);
    return len;
  }
}
