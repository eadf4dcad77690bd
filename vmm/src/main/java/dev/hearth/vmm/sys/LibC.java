package dev.hearth.vmm.sys;

import static dev.hearth.vmm.sys.Downcalls.call;
import static dev.hearth.vmm.sys.Downcalls.errnoHandle;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Downcalls to the libc functions the VMM needs. Each call that can fail captures its own errno
 * ({@link Linker.Option#captureCallState}) into a per-thread buffer, so that concurrent calls on
 * other threads never overwrite it, and a failure becomes a {@link SysException} naming the call,
 * the fd and the {@code strerror} text ({@link Downcalls} links them so).
 *
 * <p>{@code ioctl} is variadic: its third argument is passed as a variadic argument ({@code
 * firstVariadicArg(2)}), and an ioctl that takes no argument still gets an explicit {@code 0L},
 * since glibc otherwise forwards whatever is in the register.
 */
// mmap's result is reinterpreted to the mapping's size: a restricted call.
@SuppressWarnings("restricted")
public final class LibC {
  public static final int O_RDWR = 2;
  public static final int O_CLOEXEC = 0x80000;
  public static final int O_NONBLOCK = 0x800;

  public static final int PROT_READ = 1;
  public static final int PROT_WRITE = 2;
  public static final int MAP_SHARED = 0x01;
  public static final int MAP_PRIVATE = 0x02;
  public static final int MAP_ANONYMOUS = 0x20;
  public static final int MAP_NORESERVE = 0x4000;

  public static final int EFD_CLOEXEC = 0x80000;
  public static final int EFD_NONBLOCK = 0x800;

  public static final int EPOLL_CLOEXEC = 0x80000;
  public static final int EPOLL_CTL_ADD = 1;
  public static final int EPOLL_CTL_DEL = 2;
  public static final int EPOLL_CTL_MOD = 3;
  public static final int EPOLLIN = 0x001;
  public static final int EPOLLOUT = 0x004;
  public static final int EPOLLERR = 0x008;
  public static final int EPOLLHUP = 0x010;

  /** Edge-triggered: one wake-up per change of readiness, so the handler must drain the fd. */
  public static final int EPOLLET = 0x8000_0000;

  public static final int CLOCK_MONOTONIC = 1;
  public static final int TFD_CLOEXEC = 0x80000;
  public static final int TFD_NONBLOCK = 0x800;
  public static final int CLONE_NEWNET = 0x40000000;

  private static final MethodHandle OPEN =
      errnoHandle("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
  private static final MethodHandle CLOSE =
      errnoHandle("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
  private static final MethodHandle IOCTL_LONG =
      errnoHandle("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), 2);
  private static final MethodHandle IOCTL_PTR =
      errnoHandle("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), 2);
  private static final MethodHandle MMAP =
      errnoHandle(
          "mmap",
          FunctionDescriptor.of(
              ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG),
          -1);
  private static final MethodHandle MUNMAP =
      errnoHandle("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), -1);
  private static final MethodHandle EVENTFD =
      errnoHandle("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), -1);
  private static final MethodHandle EPOLL_CREATE1 =
      errnoHandle("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
  private static final MethodHandle EPOLL_CTL =
      errnoHandle(
          "epoll_ctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), -1);
  private static final MethodHandle EPOLL_WAIT =
      errnoHandle(
          "epoll_wait", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), -1);
  private static final MethodHandle TIMERFD_CREATE =
      errnoHandle("timerfd_create", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), -1);
  private static final MethodHandle TIMERFD_SETTIME =
      errnoHandle(
          "timerfd_settime",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS),
          -1);
  private static final MethodHandle READ =
      errnoHandle("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), -1);
  private static final MethodHandle WRITE =
      errnoHandle("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), -1);
  private static final MethodHandle SOCKET =
      errnoHandle("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), -1);
  private static final MethodHandle BIND =
      errnoHandle("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), -1);
  private static final MethodHandle SETNS =
      errnoHandle("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), -1);

  private LibC() {}

  /** Opens {@code path} with {@code flags}; returns the new fd. */
  public static int open(String path, int flags) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment cpath = arena.allocateFrom(path);
      return call("open(" + path + ")", -1, st -> (int) OPEN.invokeExact(st, cpath, flags, 0));
    }
  }

  /** Closes {@code fd}. */
  public static void close(int fd) {
    call("close", fd, st -> (int) CLOSE.invokeExact(st, fd));
  }

  /** {@code ioctl(fd, request, arg)} with an integer argument ({@code 0L} for none). */
  public static int ioctl(int fd, long request, long arg, String name) {
    return call(
        "ioctl(" + name + ")", fd, st -> (int) IOCTL_LONG.invokeExact(st, fd, request, arg));
  }

  /** {@code ioctl(fd, request, arg)} with a pointer argument. */
  public static int ioctl(int fd, long request, MemorySegment arg, String name) {
    return call("ioctl(" + name + ")", fd, st -> (int) IOCTL_PTR.invokeExact(st, fd, request, arg));
  }

  /**
   * Like {@link #ioctl(int, long, long, String)} but returns {@code -errno} instead of throwing,
   * for calls whose failure is an expected outcome (KVM_RUN interrupted by a signal).
   */
  public static int ioctlRaw(int fd, long request, long arg) {
    MemorySegment state = Downcalls.state();
    try {
      int r = (int) IOCTL_LONG.invokeExact(state, fd, request, arg);
      return r < 0 ? -Downcalls.errno(state) : r;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** Maps {@code length} bytes; returns a segment of that size over the mapping. */
  public static MemorySegment mmap(long length, int prot, int flags, int fd, long offset) {
    MemorySegment state = Downcalls.state();
    MemorySegment addr;
    try {
      addr =
          (MemorySegment)
              MMAP.invokeExact(state, MemorySegment.NULL, length, prot, flags, fd, offset);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
    if (addr.address() == -1L) {
      throw Downcalls.failure(state, "mmap(" + length + " bytes)", fd);
    }
    return addr.reinterpret(length);
  }

  /** Unmaps a segment returned by {@link #mmap}. */
  public static void munmap(MemorySegment mapping) {
    long size = mapping.byteSize();
    call("munmap(" + size + " bytes)", -1, st -> (int) MUNMAP.invokeExact(st, mapping, size));
  }

  /** A new eventfd. */
  public static int eventfd(int initval, int flags) {
    return call("eventfd", -1, st -> (int) EVENTFD.invokeExact(st, initval, flags));
  }

  /** A new epoll instance. */
  public static int epollCreate1(int flags) {
    return call("epoll_create1", -1, st -> (int) EPOLL_CREATE1.invokeExact(st, flags));
  }

  /** {@code epoll_ctl}; {@code event} is a 12-byte packed {@code struct epoll_event} or NULL. */
  public static void epollCtl(int epfd, int op, int fd, MemorySegment event) {
    call(
        "epoll_ctl(op " + op + ", fd " + fd + ")",
        epfd,
        st -> (int) EPOLL_CTL.invokeExact(st, epfd, op, fd, event));
  }

  /** {@code epoll_wait}; returns the number of events, or 0 when interrupted by a signal. */
  public static int epollWait(int epfd, MemorySegment events, int maxEvents, int timeoutMs) {
    return call(
        "epoll_wait",
        epfd,
        st -> {
          int n = (int) EPOLL_WAIT.invokeExact(st, epfd, events, maxEvents, timeoutMs);
          return n < 0 && Downcalls.errno(st) == Errno.EINTR ? 0 : n;
        });
  }

  /** A new timerfd. */
  public static int timerfdCreate(int clock, int flags) {
    return call("timerfd_create", -1, st -> (int) TIMERFD_CREATE.invokeExact(st, clock, flags));
  }

  /** Arms or disarms a timerfd; {@code spec} is a 32-byte {@code struct itimerspec}. */
  public static void timerfdSettime(int fd, int flags, MemorySegment spec) {
    call(
        "timerfd_settime",
        fd,
        st -> (int) TIMERFD_SETTIME.invokeExact(st, fd, flags, spec, MemorySegment.NULL));
  }

  /** Reads up to {@code buf.byteSize()} bytes; returns the count, or -EAGAIN when none. */
  public static long read(int fd, MemorySegment buf) {
    return transfer(READ, "read", fd, buf);
  }

  /**
   * Reads and so resets the 8-byte counter of an eventfd or a timerfd (non-blocking); 0 when it was
   * already 0.
   */
  public static long readCounter(int fd) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment value = arena.allocate(JAVA_LONG);
      return read(fd, value) == 8 ? value.get(JAVA_LONG, 0) : 0;
    }
  }

  /** Writes {@code buf}; returns the count written, or -EAGAIN when it would block. */
  public static long write(int fd, MemorySegment buf) {
    return transfer(WRITE, "write", fd, buf);
  }

  /** {@code socket(domain, type, protocol)}; returns the new fd. */
  public static int socket(int domain, int type, int protocol) {
    return call(
        "socket(" + domain + ", " + type + ", " + protocol + ")",
        -1,
        st -> (int) SOCKET.invokeExact(st, domain, type, protocol));
  }

  /** {@code bind(fd, address, address.byteSize())}. */
  public static void bind(int fd, MemorySegment address) {
    int size = (int) address.byteSize();
    call("bind", fd, st -> (int) BIND.invokeExact(st, fd, address, size));
  }

  /** {@code setns(fd, nstype)}: moves the calling thread into the namespace {@code fd} names. */
  public static void setns(int fd, int nstype) {
    call("setns", fd, st -> (int) SETNS.invokeExact(st, fd, nstype));
  }

  /** The text for {@code errno}. */
  public static String strerror(int errno) {
    return Downcalls.strerror(errno);
  }

  /** read or write: the byte count, -EAGAIN when the fd is not ready, else a failure. */
  private static long transfer(MethodHandle op, String name, int fd, MemorySegment buf) {
    MemorySegment state = Downcalls.state();
    long n;
    try {
      n = (long) op.invokeExact(state, fd, buf, buf.byteSize());
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
    if (n < 0) {
      int errno = Downcalls.errno(state);
      if (errno == Errno.EAGAIN) {
        return -Errno.EAGAIN;
      }
      throw new SysException(name, fd, errno, strerror(errno));
    }
    return n;
  }
}
