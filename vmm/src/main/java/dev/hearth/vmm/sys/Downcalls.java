package dev.hearth.vmm.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * How this package links libc: downcall handles that capture errno ({@link
 * Linker.Option#captureCallState}) into a per-thread buffer, so that concurrent calls on other
 * threads never overwrite it, and the step that turns a failed call into a {@link SysException}
 * naming the call, the fd and the {@code strerror} text.
 */
// Linking native code is what native access is enabled for.
@SuppressWarnings("restricted")
final class Downcalls {
  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LIBC = LINKER.defaultLookup();
  private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
  private static final MethodHandle STRERROR =
      plainHandle("strerror", FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

  /** One errno buffer per thread: calls on different threads never share it. */
  private static final ThreadLocal<MemorySegment> CAPTURE_BUFFER =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE));

  /** A downcall through an errno-capturing handle that returns an int, -1 on failure. */
  @FunctionalInterface
  interface IntCall {
    int invoke(MemorySegment errnoState) throws Throwable;
  }

  private Downcalls() {}

  /** A handle to libc's {@code name} that does not capture errno. */
  static MethodHandle plainHandle(String name, FunctionDescriptor fd) {
    return LINKER.downcallHandle(symbol(name), fd);
  }

  /**
   * A handle to libc's {@code name} whose first argument is the errno capture buffer; {@code
   * firstVariadic} is the index of its first variadic argument, or -1 if it has none.
   */
  static MethodHandle errnoHandle(String name, FunctionDescriptor fd, int firstVariadic) {
    return firstVariadic < 0
        ? LINKER.downcallHandle(symbol(name), fd, CAPTURE_ERRNO)
        : LINKER.downcallHandle(
            symbol(name), fd, CAPTURE_ERRNO, Linker.Option.firstVariadicArg(firstVariadic));
  }

  /** The address of libc's {@code name}. */
  static MemorySegment symbol(String name) {
    return LIBC.find(name)
        .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
  }

  /** The calling thread's errno capture buffer. */
  static MemorySegment state() {
    return CAPTURE_BUFFER.get();
  }

  /** The errno the last call captured into {@code state}. */
  static int errno(MemorySegment state) {
    return (int) ERRNO.get(state, 0L);
  }

  /**
   * Runs {@code call} with this thread's errno buffer and returns its result.
   *
   * @throws SysException naming {@code what} and {@code fd} (-1 for none) if it returned less than
   *     0
   */
  static int call(String what, int fd, IntCall call) {
    MemorySegment state = state();
    int result;
    try {
      result = call.invoke(state);
    } catch (Throwable t) {
      // A downcall of the right type throws nothing.
      throw new AssertionError(t);
    }
    return check(result, state, what, fd);
  }

  /** {@code result}, unless it is negative: then the failure errno {@code state} holds. */
  static int check(int result, MemorySegment state, String what, int fd) {
    if (result < 0) {
      throw failure(state, what, fd);
    }
    return result;
  }

  /** The failure of {@code what} on {@code fd}, with the errno {@code state} holds. */
  static SysException failure(MemorySegment state, String what, int fd) {
    int errno = errno(state);
    return new SysException(what, fd, errno, strerror(errno));
  }

  /** The text for {@code errno}. */
  static String strerror(int errno) {
    try {
      MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
      return s.reinterpret(256).getString(0);
    } catch (Throwable t) {
      return "errno " + errno;
    }
  }
}
