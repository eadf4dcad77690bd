package dev.hearth.vmm.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Downcalls to the libc functions the VMM needs. Each call that can fail captures its own errno
 * ({@link Linker.Option#captureCallState}) into a per-thread buffer, so that concurrent calls on
 * other threads never overwrite it, and a failure becomes a {@link SysException} naming the call,
 * the fd and the {@code strerror} text.
 *
 * <p>{@code ioctl} is variadic: its third argument is passed as a variadic argument ({@code
 * firstVariadicArg(2)}), and an ioctl that takes no argument still gets an explicit {@code 0L},
 * since glibc otherwise forwards whatever is in the register.
 */
// The one class that links libc: its restricted calls are what native access is enabled for.
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

  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LIBC = LINKER.defaultLookup();
  private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

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
  private static final MethodHandle STRERROR =
      plainHandle("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

  /** One errno buffer per thread: calls on different threads never share it. */
  private static final ThreadLocal<MemorySegment> CAPTURE_BUFFER =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE));

  private LibC() {}

  /** Opens {@code path} with {@code flags}; returns the new fd. */
  public static int open(String path, int flags) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment cpath = arena.allocateFrom(path);
      MemorySegment state = state();
      int fd = (int) OPEN.invokeExact(state, cpath, flags, 0);
      return check(fd, state, "open(" + path + ")", -1);
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** Closes {@code fd}. */
  public static void close(int fd) {
    MemorySegment state = state();
    try {
      check((int) CLOSE.invokeExact(state, fd), state, "close", fd);
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** {@code ioctl(fd, request, arg)} with an integer argument ({@code 0L} for none). */
  public static int ioctl(int fd, long request, long arg, String name) {
    MemorySegment state = state();
    try {
      int r = (int) IOCTL_LONG.invokeExact(state, fd, request, arg);
      return check(r, state, "ioctl(" + name + ")", fd);
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** {@code ioctl(fd, request, arg)} with a pointer argument. */
  public static int ioctl(int fd, long request, MemorySegment arg, String name) {
    MemorySegment state = state();
    try {
      int r = (int) IOCTL_PTR.invokeExact(state, fd, request, arg);
      return check(r, state, "ioctl(" + name + ")", fd);
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /**
   * Like {@link #ioctl(int, long, long, String)} but returns {@code -errno} instead of throwing,
   * for calls whose failure is an expected outcome (KVM_RUN interrupted by a signal).
   */
  public static int ioctlRaw(int fd, long request, long arg) {
    MemorySegment state = state();
    try {
      int r = (int) IOCTL_LONG.invokeExact(state, fd, request, arg);
      return r < 0 ? -(int) ERRNO.get(state, 0L) : r;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** Maps {@code length} bytes; returns a segment of that size over the mapping. */
  public static MemorySegment mmap(long length, int prot, int flags, int fd, long offset) {
    MemorySegment state = state();
    try {
      MemorySegment addr =
          (MemorySegment)
              MMAP.invokeExact(state, MemorySegment.NULL, length, prot, flags, fd, offset);
      if (addr.address() == -1L) {
        throw failure(state, "mmap(" + length + " bytes)", fd);
      }
      return addr.reinterpret(length);
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** Unmaps a segment returned by {@link #mmap}. */
  public static void munmap(MemorySegment mapping) {
    MemorySegment state = state();
    try {
      check(
          (int) MUNMAP.invokeExact(state, mapping, mapping.byteSize()),
          state,
          "munmap(" + mapping.byteSize() + " bytes)",
          -1);
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** A new eventfd. */
  public static int eventfd(int initval, int flags) {
    MemorySegment state = state();
    try {
      return check((int) EVENTFD.invokeExact(state, initval, flags), state, "eventfd", -1);
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** A new epoll instance. */
  public static int epollCreate1(int flags) {
    MemorySegment state = state();
    try {
      return check((int) EPOLL_CREATE1.invokeExact(state, flags), state, "epoll_create1", -1);
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** {@code epoll_ctl}; {@code event} is a 12-byte packed {@code struct epoll_event} or NULL. */
  public static void epollCtl(int epfd, int op, int fd, MemorySegment event) {
    MemorySegment state = state();
    try {
      check(
          (int) EPOLL_CTL.invokeExact(state, epfd, op, fd, event),
          state,
          "epoll_ctl(op " + op + ", fd " + fd + ")",
          epfd);
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** {@code epoll_wait}; returns the number of events, or 0 when interrupted by a signal. */
  public static int epollWait(int epfd, MemorySegment events, int maxEvents, int timeoutMs) {
    MemorySegment state = state();
    try {
      int n = (int) EPOLL_WAIT.invokeExact(state, epfd, events, maxEvents, timeoutMs);
      if (n < 0 && (int) ERRNO.get(state, 0L) == Errno.EINTR) {
        return 0;
      }
      return check(n, state, "epoll_wait", epfd);
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** A new timerfd. */
  public static int timerfdCreate(int clock, int flags) {
    MemorySegment state = state();
    try {
      return check(
          (int) TIMERFD_CREATE.invokeExact(state, clock, flags), state, "timerfd_create", -1);
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** Arms or disarms a timerfd; {@code spec} is a 32-byte {@code struct itimerspec}. */
  public static void timerfdSettime(int fd, int flags, MemorySegment spec) {
    MemorySegment state = state();
    try {
      check(
          (int) TIMERFD_SETTIME.invokeExact(state, fd, flags, spec, MemorySegment.NULL),
          state,
          "timerfd_settime",
          fd);
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** Reads up to {@code buf.byteSize()} bytes; returns the count, or -EAGAIN when none. */
  public static long read(int fd, MemorySegment buf) {
    MemorySegment state = state();
    try {
      long n = (long) READ.invokeExact(state, fd, buf, buf.byteSize());
      if (n < 0) {
        int errno = (int) ERRNO.get(state, 0L);
        if (errno == Errno.EAGAIN) {
          return -Errno.EAGAIN;
        }
        throw new SysException("read", fd, errno, strerror(errno));
      }
      return n;
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** Writes {@code buf}; returns the count written, or -EAGAIN when it would block. */
  public static long write(int fd, MemorySegment buf) {
    MemorySegment state = state();
    try {
      long n = (long) WRITE.invokeExact(state, fd, buf, buf.byteSize());
      if (n < 0) {
        int errno = (int) ERRNO.get(state, 0L);
        if (errno == Errno.EAGAIN) {
          return -Errno.EAGAIN;
        }
        throw new SysException("write", fd, errno, strerror(errno));
      }
      return n;
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** {@code socket(domain, type, protocol)}; returns the new fd. */
  public static int socket(int domain, int type, int protocol) {
    MemorySegment state = state();
    try {
      int fd = (int) SOCKET.invokeExact(state, domain, type, protocol);
      return check(fd, state, "socket(" + domain + ", " + type + ", " + protocol + ")", -1);
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** {@code bind(fd, address, address.byteSize())}. */
  public static void bind(int fd, MemorySegment address) {
    MemorySegment state = state();
    try {
      check(
          (int) BIND.invokeExact(state, fd, address, (int) address.byteSize()), state, "bind", fd);
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** {@code setns(fd, nstype)}: moves the calling thread into the namespace {@code fd} names. */
  public static void setns(int fd, int nstype) {
    MemorySegment state = state();
    try {
      check((int) SETNS.invokeExact(state, fd, nstype), state, "setns", fd);
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** The text for {@code errno}. */
  public static String strerror(int errno) {
    try {
      MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
      return s.reinterpret(256).getString(0);
    } catch (Throwable t) {
      return "errno " + errno;
    }
  }

  static MethodHandle plainHandle(String name, FunctionDescriptor fd) {
    return LINKER.downcallHandle(symbol(name), fd);
  }

  static MemorySegment symbol(String name) {
    return LIBC.find(name)
        .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
  }

  private static MethodHandle errnoHandle(String name, FunctionDescriptor fd, int firstVariadic) {
    return firstVariadic < 0
        ? LINKER.downcallHandle(symbol(name), fd, CAPTURE_ERRNO)
        : LINKER.downcallHandle(
            symbol(name), fd, CAPTURE_ERRNO, Linker.Option.firstVariadicArg(firstVariadic));
  }

  private static MemorySegment state() {
    return CAPTURE_BUFFER.get();
  }

  private static int check(int result, MemorySegment state, String call, int fd) {
    if (result < 0) {
      throw failure(state, call, fd);
    }
    return result;
  }

  private static SysException failure(MemorySegment state, String call, int fd) {
    int errno = (int) ERRNO.get(state, 0L);
    return new SysException(call, fd, errno, strerror(errno));
  }
}
