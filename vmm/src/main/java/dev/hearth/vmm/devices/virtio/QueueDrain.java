package dev.hearth.vmm.devices.virtio;

import dev.hearth.vmm.devices.virtio.queue.DescriptorChain;
import dev.hearth.vmm.devices.virtio.queue.InvalidChainException;
import dev.hearth.vmm.devices.virtio.queue.QueueBrokenException;
import dev.hearth.vmm.devices.virtio.queue.Virtqueue;

/**
 * The loop every request queue runs: pop chains, let the device serve each one, return it to the
 * used ring, and interrupt the driver once at the end if it wants. A malformed chain is returned
 * with length 0 (that request fails); a broken ring marks the device DEVICE_NEEDS_RESET. Request
 * queues use {@link #drain}; queues the device fills from a backend use {@link #fill}.
 */
public final class QueueDrain {
  private static final System.Logger LOG = System.getLogger(QueueDrain.class.getName());

  /** What a handler returns to put the chain back and stop (e.g. a rate limiter said no). */
  public static final int STOP = -1;

  /**
   * What a {@link #fill} handler returns to put the chain back and ask {@code hasWork} again (the
   * work it expected was gone after all).
   */
  public static final int RETRY = -2;

  /** Serves one chain. */
  @FunctionalInterface
  public interface Handler {
    /**
     * Serves {@code chain}; returns the bytes written into it, or {@link #STOP} to leave it queued
     * and stop for now ({@link #fill} also takes {@link #RETRY}).
     */
    int serve(DescriptorChain chain);
  }

  private QueueDrain() {}

  /**
   * Serves the chains available on queue {@code index} until it is empty or the handler stops.
   * Returns true when it stopped early (chains are still waiting).
   */
  public static boolean drain(DeviceContext ctx, int index, Handler handler) {
    return run(ctx, index, () -> true, handler);
  }

  /**
   * The loop of a queue the device fills (a receive queue): pops a chain only while {@code hasWork}
   * says there is something to put in it, lets {@code handler} fill it, and returns it to the used
   * ring; the handler may also answer {@link #STOP} or {@link #RETRY}. Returns true when it stopped
   * early.
   */
  public static boolean fill(
      DeviceContext ctx, int index, java.util.function.BooleanSupplier hasWork, Handler handler) {
    return run(ctx, index, hasWork, handler);
  }

  private static boolean run(
      DeviceContext ctx, int index, java.util.function.BooleanSupplier hasWork, Handler handler) {
    Virtqueue q = ctx.queue(index);
    if (ctx.broken() || !q.active()) {
      return false;
    }
    boolean used = false;
    boolean stopped = false;
    try {
      while (hasWork.getAsBoolean()) {
        DescriptorChain chain;
        try {
          chain = q.pop();
        } catch (InvalidChainException e) {
          ctx.log().log(LOG, System.Logger.Level.DEBUG, "queue {0}: {1}", index, e.getMessage());
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
        int written = handler.serve(chain);
        if (written == STOP) {
          q.undoPop();
          stopped = true;
          break;
        }
        if (written == RETRY) {
          q.undoPop();
          continue;
        }
        q.addUsed(chain.head(), written);
        used = true;
        if (ctx.broken()) {
          break;
        }
      }
    } catch (QueueBrokenException e) {
      ctx.markBroken("queue " + index + ": " + e.getMessage());
      return false;
    }
    if (used) {
      ctx.signalUsed(index);
    }
    return stopped;
  }
}
