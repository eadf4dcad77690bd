package dev.hearth.vmm.vm;

import dev.hearth.vmm.sys.Epoll;
import dev.hearth.vmm.sys.EventFd;
import dev.hearth.vmm.sys.LibC;
import dev.hearth.vmm.sys.seccomp.ThreadProfile;
import dev.hearth.vmm.sys.seccomp.ThreadSandbox;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * One thread per VM that waits on epoll over the fds devices register (ioeventfds, timerfds, tap
 * fds) and calls each fd's handler when it is ready. A handler that throws is unregistered and
 * logged: one failing device must not stop the others or the VM. As an {@link Executor} it runs
 * tasks on its thread, in the order they were handed over.
 *
 * <p>Lazy: its epoll, wake eventfd and thread come into being with the first fd registered or task
 * handed over. A VM with no device to serve (a tiny guest on the serial port alone) then costs no
 * thread and two descriptors fewer, which is what bounds how many VMs one process holds.
 */
public final class EventLoop implements AutoCloseable, Executor {
  private static final System.Logger LOG = System.getLogger(EventLoop.class.getName());

  /** Called on the event-loop thread when a registered fd is ready. */
  @FunctionalInterface
  public interface Handler {
    /** {@code events} holds the ready bits ({@link LibC#EPOLLIN}, ...). */
    void onReady(int events) throws Exception;
  }

  // Made by open(), under this lock, before the thread starts; never replaced. wake is written
  // before the volatile epoll, so whoever sees epoll set sees wake too.
  private volatile Epoll epoll;
  private EventFd wake;
  private boolean startRequested;
  private final Map<Integer, Handler> handlers = new ConcurrentHashMap<>();
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final String name;
  // Made with the epoll (a Thread costs about as much to make as the rest of a VM's legacy
  // devices), before epoll is published; null in a loop that never had work.
  private volatile Thread thread;
  private final Consumer<String> onDeath;
  private final ThreadSandbox sandbox;
  private volatile boolean stopping;
  private boolean closed;

  /**
   * A loop whose thread is named {@code name}; it runs once {@link #start}ed. If a throwable ends
   * the thread (an Error from a handler or task: handlers' exceptions only unregister them), {@code
   * onDeath} hears why, once, on that thread: a VM ends itself then, rather than run on with
   * devices nobody serves. The thread enters {@code sandbox} ({@link ThreadProfile#DEVICE_LOOP})
   * before it serves anything.
   */
  public EventLoop(String name, Consumer<String> onDeath, ThreadSandbox sandbox) {
    this.onDeath = Objects.requireNonNull(onDeath, "onDeath");
    this.sandbox = Objects.requireNonNull(sandbox, "sandbox");
    this.name = Objects.requireNonNull(name, "name");
  }

  /** An unfiltered loop whose death {@code onDeath} hears (tests). */
  public EventLoop(String name, Consumer<String> onDeath) {
    this(name, onDeath, ThreadSandbox.OFF);
  }

  /** An unfiltered loop whose death is only logged (tests). */
  public EventLoop(String name) {
    this(name, why -> {});
  }

  /** The sandbox this loop's thread entered, for the device threads of the same VM. */
  ThreadSandbox sandbox() {
    return sandbox;
  }

  /** Starts the loop's thread, now if it has work, else with its first fd or task. */
  public synchronized void start() {
    startRequested = true;
    if (epoll != null && thread.getState() == Thread.State.NEW && !stopping) {
      thread.start();
    }
  }

  /** Makes the epoll and wake fds on first use, and starts the thread if it was asked to run. */
  private void open() {
    if (epoll == null) {
      openLocked(); // never on the loop's thread, which runs only once open: stop() can join it
    }
  }

  private synchronized void openLocked() {
    if (epoll != null || closed) {
      return;
    }
    Epoll e = new Epoll(64);
    try {
      wake = new EventFd();
      e.add(wake.fd(), LibC.EPOLLIN);
    } catch (RuntimeException failed) {
      e.close();
      if (wake != null) {
        wake.close();
        wake = null;
      }
      throw failed;
    }
    thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this::run);
    epoll = e;
    if (startRequested && !stopping) {
      thread.start();
    }
  }

  /**
   * Calls {@code handler} whenever {@code fd} has any of {@code events}. The fd stays the caller's
   * to close, after {@link #unregister}.
   */
  public void register(int fd, int events, Handler handler) {
    open();
    if (handlers.putIfAbsent(fd, handler) != null) {
      throw new IllegalStateException("fd " + fd + " is already registered with the event loop");
    }
    try {
      epoll.add(fd, events);
    } catch (RuntimeException e) {
      handlers.remove(fd);
      throw e;
    }
  }

  /** Changes which events of {@code fd} are watched. */
  public void modify(int fd, int events) {
    open();
    epoll.modify(fd, events);
  }

  /** Stops watching {@code fd}. */
  public void unregister(int fd) {
    if (handlers.remove(fd) != null) {
      epoll.remove(fd);
    }
  }

  /**
   * Runs {@code task} on the loop's thread soon (a QueueNotify write that reached the bus, say).
   * Tasks handed over after {@link #close} are dropped. A task that throws is logged.
   */
  @Override
  public void execute(Runnable task) {
    if (stopping) {
      return;
    }
    open();
    tasks.add(task);
    wake.signal();
  }

  /** Whether the calling thread is this loop's. */
  public boolean inLoop() {
    return thread == Thread.currentThread();
  }

  private void run() {
    try {
      sandbox.enter(ThreadProfile.DEVICE_LOOP);
      serve();
    } catch (Throwable t) {
      stopping = true;
      String why = "event loop " + name + " died: " + t;
      LOG.log(Level.ERROR, why, t);
      onDeath.accept(why);
    }
  }

  private void serve() {
    while (!stopping) {
      int n = epoll.await(-1);
      for (int i = 0; i < n && !stopping; i++) {
        int fd = epoll.readyFd(i);
        if (fd == wake.fd()) {
          wake.drain();
          runTasks();
          continue;
        }
        Handler h = handlers.get(fd);
        if (h == null) {
          continue;
        }
        try {
          h.onReady(epoll.readyEvents(i));
        } catch (Exception | AssertionError e) {
          LOG.log(Level.ERROR, "event handler for fd " + fd + " failed; unregistering it", e);
          unregister(fd);
        }
      }
    }
  }

  private void runTasks() {
    Runnable task;
    while (!stopping && (task = tasks.poll()) != null) {
      try {
        task.run();
      } catch (RuntimeException | AssertionError e) {
        LOG.log(Level.ERROR, "event-loop task failed", e);
      }
    }
  }

  /**
   * Stops the thread and waits for it; handlers then no longer run, so the fds they serve may be
   * closed. Idempotent; {@link #close} does it too.
   */
  public synchronized void stop() {
    stopping = true;
    Thread t = thread;
    if (t != null && t.isAlive()) {
      wake.signal(); // alive, so open() made it
      boolean interrupted = false;
      while (t.isAlive()) {
        try {
          t.join();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    tasks.clear();
  }

  /** Stops the thread, waits for it, and releases the epoll and wake fds. */
  @Override
  public synchronized void close() {
    stop();
    if (!closed) {
      closed = true;
      handlers.clear();
      if (epoll != null) {
        epoll.close();
        wake.close();
      }
    }
  }
}
