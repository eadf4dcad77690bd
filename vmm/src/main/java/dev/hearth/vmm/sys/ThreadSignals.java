package dev.hearth.vmm.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Kicks a thread out of a blocking system call (KVM_RUN) with a real-time signal, as Firecracker
 * does. The signal's handler does nothing: what matters is that a pending signal makes KVM_RUN
 * return EINTR. The handler is a libc function that has no effect ({@code getpid}), because a Java
 * upcall must never run in signal context.
 */
public final class ThreadSignals {
  private static final MethodHandle PTHREAD_SELF =
      Downcalls.plainHandle("pthread_self", FunctionDescriptor.of(JAVA_LONG));
  private static final MethodHandle PTHREAD_KILL =
      Downcalls.plainHandle("pthread_kill", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT));
  private static final MethodHandle SIGACTION =
      Downcalls.plainHandle(
          "sigaction", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
  private static final MethodHandle SIGRTMIN =
      Downcalls.plainHandle("__libc_current_sigrtmin", FunctionDescriptor.of(JAVA_INT));

  /** The signal used to kick vCPU threads: SIGRTMIN, which the JVM does not use. */
  public static final int KICK_SIGNAL = installKickHandler();

  private ThreadSignals() {}

  /** The calling thread's pthread id, for {@link #kick}. */
  public static long currentThreadId() {
    try {
      return (long) PTHREAD_SELF.invokeExact();
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** Sends the kick signal to a thread that is still alive. */
  public static void kick(long pthreadId) {
    try {
      int r = (int) PTHREAD_KILL.invokeExact(pthreadId, KICK_SIGNAL);
      if (r != 0) {
        throw new SysException("pthread_kill", -1, r, LibC.strerror(r));
      }
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  private static int installKickHandler() {
    try (Arena arena = Arena.ofConfined()) {
      int signal = (int) SIGRTMIN.invokeExact();
      // struct sigaction (x86_64 glibc): handler at 0, sa_mask (128 bytes) at 8, sa_flags at 136,
      // sa_restorer at 144. No SA_RESTART: the blocked call must return EINTR.
      MemorySegment action = arena.allocate(152, 8);
      action.set(ADDRESS, 0, Downcalls.symbol("getpid"));
      int r = (int) SIGACTION.invokeExact(signal, action, MemorySegment.NULL);
      if (r != 0) {
        throw new SysException("sigaction(" + signal + ")", -1, -1, "failed");
      }
      return signal;
    } catch (SysException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }
}
