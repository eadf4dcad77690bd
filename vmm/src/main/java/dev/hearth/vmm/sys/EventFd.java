package dev.hearth.vmm.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An eventfd: a counter that KVM (irqfd, ioeventfd) or another thread signals, and that epoll
 * watches. Non-blocking and close-on-exec.
 */
public final class EventFd implements AutoCloseable {
  private final int fd;
  private volatile boolean closed;

  public EventFd() {
    this.fd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
  }

  /** The file descriptor. */
  public int fd() {
    return fd;
  }

  /** Adds one to the counter, waking whoever waits on it. */
  public void signal() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment one = arena.allocate(ValueLayout.JAVA_LONG);
      one.set(ValueLayout.JAVA_LONG, 0, 1L);
      LibC.write(fd, one);
    }
  }

  /** Reads and resets the counter; returns 0 when it was already 0. */
  public long drain() {
    return LibC.readCounter(fd);
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      LibC.close(fd);
    }
  }
}
