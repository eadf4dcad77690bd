package dev.hearth.vmm.vm;

import dev.hearth.vmm.config.SeccompMode;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Platform threads for vCPUs, kept for the next VM once a vCPU is done with them, one pool per
 * seccomp mode. A new thread costs about 0.1 ms of CPU and its seccomp filter about 0.2-0.4 ms more
 * (the kernel checks and JIT-compiles the BPF program for each thread); a kept thread has its
 * filter already, since {@link dev.hearth.vmm.sys.seccomp.ThreadSandbox#enter} does nothing on a
 * thread that entered the same profile before, and the vCPU filter is the same for every VM of the
 * process. Pools are per mode so that a thread filtered for one mode never runs a vCPU of another.
 *
 * <p>A thread carries the vCPU's name while it runs it and {@value #IDLE_NAME} while kept; it is
 * back in the pool before {@link Task#join} returns, so that a VM's close leaves no thread named
 * after it. Up to {@value #MAX_IDLE} threads are kept, each for {@link #KEEP_ALIVE} at most.
 */
final class VcpuThreadPool {
  static final String IDLE_NAME = "hearth-vcpu-idle";
  static final int MAX_IDLE = 8;
  static final Duration KEEP_ALIVE = Duration.ofSeconds(30);

  private static final Map<SeccompMode, VcpuThreadPool> POOLS = new EnumMap<>(SeccompMode.class);

  private final Deque<Worker> idle = new ArrayDeque<>();

  private VcpuThreadPool() {}

  /** The pool for vCPUs of VMs whose threads run under {@code mode}. */
  static synchronized VcpuThreadPool forMode(SeccompMode mode) {
    return POOLS.computeIfAbsent(mode, m -> new VcpuThreadPool());
  }

  /** Threads kept now (tests). */
  synchronized int idleCount() {
    return idle.size();
  }

  /** Runs {@code body} on a kept thread, or on a new one, named {@code name}. */
  Task start(String name, Runnable body) {
    Task task = new Task(name, body);
    Worker w;
    synchronized (this) {
      w = idle.pollFirst();
    }
    if (w == null) {
      w = new Worker(task);
      Thread.ofPlatform().name(name).daemon(true).start(w);
    } else {
      w.hand(task);
    }
    return task;
  }

  /** One vCPU's run on a pool thread. */
  static final class Task {
    private final String name;
    private final Runnable body;
    private final CountDownLatch done = new CountDownLatch(1);

    private Task(String name, Runnable body) {
      this.name = name;
      this.body = body;
    }

    String name() {
      return name;
    }

    /** Whether the body has not finished yet. */
    boolean isAlive() {
      return done.getCount() > 0;
    }

    void join() throws InterruptedException {
      done.await();
    }

    /** Waits up to {@code limit}; returns whether the body finished. */
    boolean join(Duration limit) throws InterruptedException {
      return done.await(limit.toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  private final class Worker implements Runnable {
    private Task next;

    Worker(Task first) {
      this.next = first;
    }

    synchronized void hand(Task task) {
      next = task;
      notifyAll();
    }

    @Override
    public void run() {
      Task task = take();
      boolean first = true;
      while (task != null) {
        Thread self = Thread.currentThread();
        if (!first) {
          self.setName(task.name);
        }
        first = false;
        boolean finished = false;
        boolean kept = false;
        try {
          task.body.run();
          finished = true;
        } finally {
          Thread.interrupted(); // a stop's interrupt must not reach the next VM
          if (finished) {
            self.setName(IDLE_NAME);
            synchronized (VcpuThreadPool.this) {
              if (idle.size() < MAX_IDLE) {
                idle.addFirst(this);
                kept = true;
              }
            }
          }
          task.done.countDown();
        }
        task = kept ? awaitNext() : null;
      }
    }

    /** Nanoseconds to {@code deadline}; {@link Long#MAX_VALUE} waits for good. */
    private static long remaining(long deadline) {
      return deadline == Long.MAX_VALUE ? Long.MAX_VALUE : deadline - System.nanoTime();
    }

    private synchronized Task take() {
      Task t = next;
      next = null;
      return t;
    }

    /** The next task, or null once the keep-alive has passed and this thread left the pool. */
    private Task awaitNext() {
      long deadline = System.nanoTime() + KEEP_ALIVE.toNanos();
      while (true) {
        synchronized (this) {
          long left = remaining(deadline);
          while (next == null && left > 0) {
            try {
              TimeUnit.NANOSECONDS.timedWait(this, left);
            } catch (InterruptedException e) {
              // Only a task's hand-over wakes a kept thread; go on waiting.
            }
            left = remaining(deadline);
          }
          if (next != null) {
            return take();
          }
        }
        synchronized (VcpuThreadPool.this) {
          if (idle.remove(this)) {
            return null;
          }
        }
        // start() took this thread just now: its task is on the way.
        deadline = Long.MAX_VALUE;
      }
    }
  }
}
