package dev.hearth.vmm.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An epoll instance. Each registered fd carries itself as its event data, so a ready event names
 * its fd. Waiting is for one thread at a time; registration is safe from any thread.
 */
public final class Epoll implements AutoCloseable {
  /** {@code struct epoll_event} is packed on x86_64: u32 events, then u64 data. */
  private static final int EVENT_SIZE = 12;

  private static final ValueLayout.OfLong DATA = ValueLayout.JAVA_LONG_UNALIGNED;

  private final int fd;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment ready;
  private final int maxEvents;
  private volatile boolean closed;

  public Epoll(int maxEvents) {
    this.fd = LibC.epollCreate1(LibC.EPOLL_CLOEXEC);
    this.maxEvents = maxEvents;
    this.ready = arena.allocate((long) EVENT_SIZE * maxEvents, 8);
  }

  /** Watches {@code target} for {@code events} (EPOLLIN, EPOLLOUT...). */
  public void add(int target, int events) {
    ctl(LibC.EPOLL_CTL_ADD, target, events);
  }

  /** Changes the events watched on {@code target}. */
  public void modify(int target, int events) {
    ctl(LibC.EPOLL_CTL_MOD, target, events);
  }

  /** Stops watching {@code target}. */
  public void remove(int target) {
    LibC.epollCtl(fd, LibC.EPOLL_CTL_DEL, target, MemorySegment.NULL);
  }

  /**
   * Waits up to {@code timeoutMs} (-1 forever) for events; returns how many are ready (0 on timeout
   * or signal). Read them with {@link #readyFd} and {@link #readyEvents}.
   */
  public int await(int timeoutMs) {
    return LibC.epollWait(fd, ready, maxEvents, timeoutMs);
  }

  /** The fd of the {@code i}-th ready event of the last {@link #await}. */
  public int readyFd(int i) {
    return (int) ready.get(DATA, (long) i * EVENT_SIZE + 4);
  }

  /** The event bits of the {@code i}-th ready event of the last {@link #await}. */
  public int readyEvents(int i) {
    return ready.get(ValueLayout.JAVA_INT_UNALIGNED, (long) i * EVENT_SIZE);
  }

  private void ctl(int op, int target, int events) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment ev = a.allocate(EVENT_SIZE, 8);
      ev.set(ValueLayout.JAVA_INT_UNALIGNED, 0, events);
      ev.set(DATA, 4, target);
      LibC.epollCtl(fd, op, target, ev);
    }
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      LibC.close(fd);
      arena.close();
    }
  }
}
