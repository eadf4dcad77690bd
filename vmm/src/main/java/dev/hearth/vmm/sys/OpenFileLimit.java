package dev.hearth.vmm.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The process's open-file limit ({@code RLIMIT_NOFILE}): every VM holds several descriptors (its
 * KVM fds, an epoll, eventfds, timerfds), so a process that hosts many VMs raises its soft limit to
 * the hard one, and counts what it has left.
 */
public final class OpenFileLimit {
  private static final int RLIMIT_NOFILE = 7;

  private static final MethodHandle GETRLIMIT =
      Downcalls.errnoHandle("getrlimit", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), -1);
  private static final MethodHandle SETRLIMIT =
      Downcalls.errnoHandle("setrlimit", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), -1);

  /** The soft limit (what applies now) and the hard one (the most the soft may be raised to). */
  public record Limit(long soft, long hard) {}

  private OpenFileLimit() {}

  /** The current limit. */
  public static Limit current() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment rlimit = arena.allocate(JAVA_LONG, 2);
      Downcalls.call("getrlimit", -1, st -> (int) GETRLIMIT.invokeExact(st, RLIMIT_NOFILE, rlimit));
      return new Limit(rlimit.getAtIndex(JAVA_LONG, 0), rlimit.getAtIndex(JAVA_LONG, 1));
    }
  }

  /**
   * Sets the soft limit to {@code soft}, keeping the hard one; returns the new limit. Lowering
   * needs no privilege, raising is allowed up to the hard limit.
   */
  public static Limit setSoft(long soft) {
    long hard = current().hard();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment rlimit = arena.allocate(JAVA_LONG, 2);
      rlimit.setAtIndex(JAVA_LONG, 0, soft);
      rlimit.setAtIndex(JAVA_LONG, 1, hard);
      Downcalls.call(
          "setrlimit(RLIMIT_NOFILE, " + soft + ")",
          -1,
          st -> (int) SETRLIMIT.invokeExact(st, RLIMIT_NOFILE, rlimit));
    }
    return current();
  }

  /** Raises the soft limit to the hard one (HotSpot usually has; a launcher flag may not have). */
  public static Limit raiseToHard() {
    Limit now = current();
    return now.soft() >= now.hard() ? now : setSoft(now.hard());
  }
}
