package dev.hearth.vmm.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;

/** A monotonic timerfd, non-blocking and close-on-exec, for epoll-driven timeouts. */
public final class TimerFd implements AutoCloseable {
  private final int fd;
  private volatile boolean closed;

  public TimerFd() {
    this.fd = LibC.timerfdCreate(LibC.CLOCK_MONOTONIC, LibC.TFD_CLOEXEC | LibC.TFD_NONBLOCK);
  }

  /** The file descriptor. */
  public int fd() {
    return fd;
  }

  /**
   * Arms the timer to fire once after {@code delay}; {@link Duration#ZERO} disarms it. A positive
   * {@code interval} makes it fire repeatedly.
   */
  public void arm(Duration delay, Duration interval) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment spec = arena.allocate(32);
      spec.set(ValueLayout.JAVA_LONG, 0, interval.getSeconds());
      spec.set(ValueLayout.JAVA_LONG, 8, interval.getNano());
      spec.set(ValueLayout.JAVA_LONG, 16, delay.getSeconds());
      spec.set(ValueLayout.JAVA_LONG, 24, delay.getNano());
      LibC.timerfdSettime(fd, 0, spec);
    }
  }

  /** Disarms the timer. */
  public void disarm() {
    arm(Duration.ZERO, Duration.ZERO);
  }

  /** Reads the number of expirations since the last read; 0 if none. */
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
