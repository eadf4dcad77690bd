package dev.hearth.vmm.vm;

import dev.hearth.vmm.ratelimit.RefillTimer;
import dev.hearth.vmm.sys.LibC;
import dev.hearth.vmm.sys.TimerFd;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Rate-limiter refill timers as timerfds in a VM's event loop: each fires once per arming and runs
 * its callback on the loop's thread. Arming a timer after {@link #close} does nothing, so a late
 * live update cannot touch a closed (or reused) fd.
 */
final class LoopTimers implements RefillTimer.Factory, AutoCloseable {
  private final EventLoop loop;
  private final List<LoopTimer> timers = new ArrayList<>();

  LoopTimers(EventLoop loop) {
    this.loop = loop;
  }

  @Override
  public synchronized RefillTimer create(Runnable onExpiry) {
    LoopTimer t = new LoopTimer();
    loop.register(
        t.fd.fd(),
        LibC.EPOLLIN,
        events -> {
          if (t.fd.drain() > 0) {
            onExpiry.run();
          }
        });
    timers.add(t);
    return t;
  }

  /** How many timers are open (for teardown checks). */
  synchronized int size() {
    return timers.size();
  }

  @Override
  public synchronized void close() {
    for (LoopTimer t : timers) {
      loop.unregister(t.fd.fd());
      t.close();
    }
    timers.clear();
  }

  private static final class LoopTimer implements RefillTimer {
    private final TimerFd fd = new TimerFd();
    private boolean closed;

    @Override
    public synchronized void arm(long delayNanos) {
      if (!closed) {
        fd.arm(Duration.ofNanos(Math.max(1, delayNanos)), Duration.ZERO);
      }
    }

    @Override
    public synchronized void disarm() {
      if (!closed) {
        fd.disarm();
      }
    }

    synchronized void close() {
      closed = true;
      fd.close();
    }
  }
}
