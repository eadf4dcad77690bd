package dev.hearth.vmm.sys.seccomp;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.hearth.vmm.config.SeccompMode;
import dev.hearth.vmm.sys.LibC;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.HashSet;
import java.util.Set;

/**
 * Puts the calling thread under its {@link ThreadProfile}'s filter: {@code
 * prctl(PR_SET_NO_NEW_PRIVS)}, then {@code seccomp(SECCOMP_SET_MODE_FILTER)} without {@code
 * SECCOMP_FILTER_FLAG_TSYNC}, so that only this thread (and any thread it would start) is bound. It
 * is the one place where VMM threads enter their sandbox: each calls {@link #enter} first thing.
 *
 * <p>Under {@link SeccompMode#ENFORCE} a denied call fails with EPERM rather than killing: one JVM
 * hosts every VM of a node, and a call the lists missed (a rare JVM path) must fail that call, not
 * every VM. The kernel logs each denial ({@code SECCOMP_FILTER_FLAG_LOG}), so a miss is visible.
 *
 * <p>A filtered thread cannot open files, so the VMM's classes are loaded before the first filter
 * goes on ({@link ClassPreload}): a class first needed on a vCPU thread would otherwise fail to
 * load when the classes come from a directory (tests) or a jar not yet opened.
 */
@SuppressWarnings("restricted")
public final class ThreadSandbox {
  /** No filter (tests that drive devices without a VM, debugging). */
  public static final ThreadSandbox OFF = new ThreadSandbox(SeccompMode.OFF);

  private static final int PR_SET_NO_NEW_PRIVS = 38;
  private static final long SYS_SECCOMP = 317;
  private static final long SECCOMP_SET_MODE_FILTER = 1;
  private static final long SECCOMP_FILTER_FLAG_LOG = 2;
  private static final int EPERM = 1;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final MemoryLayout CAPTURE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final MethodHandle PRCTL =
      LINKER.downcallHandle(
          LINKER.defaultLookup().find("prctl").orElseThrow(),
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
          Linker.Option.captureCallState("errno"),
          Linker.Option.firstVariadicArg(1));
  private static final MethodHandle SYSCALL3 =
      LINKER.downcallHandle(
          LINKER.defaultLookup().find("syscall").orElseThrow(),
          FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS),
          Linker.Option.captureCallState("errno"),
          Linker.Option.firstVariadicArg(1));

  /**
   * What the calling thread has entered, as "mode profile": a thread kept for reuse (a vCPU thread
   * serves VM after VM) enters once, since its filter stays for life.
   */
  private static final ThreadLocal<Set<String>> ENTERED = ThreadLocal.withInitial(HashSet::new);

  private final SeccompMode mode;

  private ThreadSandbox(SeccompMode mode) {
    this.mode = mode;
  }

  /** The sandbox for a VM configured with {@code mode}. */
  public static ThreadSandbox of(SeccompMode mode) {
    return mode == SeccompMode.OFF ? OFF : new ThreadSandbox(mode);
  }

  /** How this sandbox filters. */
  public SeccompMode mode() {
    return mode;
  }

  /**
   * Installs {@code profile}'s filter on the calling thread, for the rest of its life; does nothing
   * under {@link SeccompMode#OFF}, or if the thread entered the same profile in the same mode
   * before.
   *
   * @throws SeccompException if the kernel refuses: the thread must then not go on unfiltered
   */
  public void enter(ThreadProfile profile) {
    if (mode == SeccompMode.OFF) {
      return;
    }
    if (Thread.currentThread().isVirtual()) {
      // A filter binds the carrier, and with it every virtual thread later mounted there.
      throw new SeccompException(
          "a seccomp filter must not be installed on a virtual thread's carrier ("
              + Thread.currentThread()
              + ")");
    }
    String key = mode + " " + profile;
    if (ENTERED.get().contains(key)) {
      return;
    }
    ClassPreload.ensureDone();
    int deny = mode == SeccompMode.ENFORCE ? SeccompFilter.errno(EPERM) : SeccompFilter.RET_LOG;
    long flags = mode == SeccompMode.ENFORCE ? SECCOMP_FILTER_FLAG_LOG : 0;
    SeccompFilter filter = profile.filter(ProcessHandle.current().pid(), deny);
    install(filter.compile(), flags, profile + " on thread " + Thread.currentThread().getName());
    ENTERED.get().add(key);
  }

  /** Installs {@code program} on the calling thread. */
  static void install(BpfProgram program, long flags, String what) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment errno = arena.allocate(CAPTURE);
      int r = (int) PRCTL.invokeExact(errno, PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L);
      if (r != 0) {
        throw failure("prctl(PR_SET_NO_NEW_PRIVS)", errno, what);
      }
      MemorySegment insns = program.encode(arena);
      // struct sock_fprog: unsigned short len, then (aligned) the instruction pointer.
      MemorySegment fprog = arena.allocate(16, 8);
      fprog.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 0, (short) program.size());
      fprog.set(ADDRESS, 8, insns);
      long s =
          (long) SYSCALL3.invokeExact(errno, SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, flags, fprog);
      if (s != 0) {
        throw failure("seccomp(SECCOMP_SET_MODE_FILTER)", errno, what);
      }
    } catch (SeccompException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  private static SeccompException failure(String call, MemorySegment state, String what) {
    int errno = (int) ERRNO.get(state, 0L);
    return new SeccompException(
        call + " failed installing the " + what + " filter: " + LibC.strerror(errno));
  }
}
