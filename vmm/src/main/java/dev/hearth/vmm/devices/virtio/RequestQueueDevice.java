package dev.hearth.vmm.devices.virtio;

import dev.hearth.vmm.devices.virtio.queue.DescriptorChain;
import dev.hearth.vmm.memory.GuestMemory;
import dev.hearth.vmm.ratelimit.Clock;
import dev.hearth.vmm.ratelimit.RateLimiter;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import dev.hearth.vmm.ratelimit.RefillTimer;
import dev.hearth.vmm.snapshot.Snapshottable;

/**
 * A device with one request queue that it serves chain by chain under a rate limiter (virtio-blk,
 * virtio-rng): a notify drains the queue until it is empty or the limiter says no, and the
 * limiter's refill timer drains it again.
 */
public abstract class RequestQueueDevice implements VirtioDevice, Snapshottable<RequestQueueState> {
  /** The size of the request queue. */
  public static final int QUEUE_SIZE = 256;

  private final RateLimiter limiter;
  private DeviceContext ctx;

  /**
   * @param timers makes the rate limiter's refill timer (the VM's event loop)
   */
  // The refill timer it hands this to fires only once the limiter is used, after activate().
  @SuppressWarnings("this-escape")
  protected RequestQueueDevice(RateLimiterConfig limit, Clock clock, RefillTimer.Factory timers) {
    this.limiter = new RateLimiter(limit, clock, timers.create(this::onRefillTimer));
  }

  /** The rate limiter, for live updates. */
  public final RateLimiter rateLimiter() {
    return limiter;
  }

  @Override
  public final synchronized RequestQueueState saveState() {
    return new RequestQueueState(limiter.saveState());
  }

  @Override
  public final synchronized void restoreState(RequestQueueState state) {
    limiter.restoreState(state.limiter());
  }

  @Override
  public final int[] queueMaxSizes() {
    return new int[] {QUEUE_SIZE};
  }

  @Override
  public final synchronized void activate(DeviceContext context) {
    this.ctx = context;
  }

  @Override
  public final synchronized void queueNotified(int index) {
    if (ctx != null && index == 0) {
      QueueDrain.drain(ctx, 0, this::serve);
    }
  }

  @Override
  public final synchronized void reset() {
    ctx = null;
  }

  /**
   * Serves one request, holding the device's monitor; {@link #memory()} is the guest's memory.
   * Returns what a {@link QueueDrain.Handler} returns; {@link QueueDrain#STOP} when the {@link
   * #rateLimiter()} refused it.
   */
  protected abstract int serve(DescriptorChain chain);

  /** The VM's device log, while the device is active (during {@link #serve}). */
  protected final dev.hearth.vmm.devices.DeviceLog log() {
    return ctx.log();
  }

  /** The guest's memory, while the device is active (during {@link #serve}). */
  protected final GuestMemory memory() {
    return ctx.memory();
  }

  private synchronized void onRefillTimer() {
    limiter.onTimerExpired();
    queueNotified(0);
  }
}
