package dev.hearth.vmm.sys.seccomp;

import static dev.hearth.vmm.sys.seccomp.Syscall.*;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The kinds of VMM thread that run under a filter, each with the system calls it may make. The
 * lists were derived by tracing the VMM's KVM test suite ({@code strace -ff}, each thread's calls
 * after it named itself) and are explained in {@code docs/security.md}, section Seccomp.
 *
 * <p>Every kind gets {@link #JVM_BASE}: what the JVM itself does on any Java thread (locks and
 * parking through {@code futex}, memory committed and released by the allocator, the GC's and
 * safepoints' signals, class bytes read from already open jars, time). Beyond it:
 *
 * <ul>
 *   <li>{@link #VCPU}: KVM's ioctls ({@code KVM_RUN}, register reads for a crash dump, {@code
 *       KVM_IRQ_LINE}) and {@code TUNSETOFFLOAD}, which virtio-net sets when the driver accepts its
 *       features (a register write, served on the vCPU thread); and {@code prctl(PR_SET_NAME)}, as
 *       the thread is kept for the next VM and takes each vCPU's name.
 *   <li>{@link #DEVICE_LOOP}: epoll, timerfds, the block file's reads, writes and flushes, the tap,
 *       and a guest's vsock connect to a host listener: a Unix socket, its connect and shutdown,
 *       and {@code access} to see whether the listener exists.
 *   <li>{@link #VSOCK_HOST}: the vsock host listener's accept and its connections' I/O.
 * </ul>
 *
 * <p>No kind may open a file, create a process or thread, use a socket other than a Unix one,
 * signal another process or trace one.
 */
public enum ThreadProfile {
  VCPU,
  DEVICE_LOOP,
  VSOCK_HOST;

  static final int AF_UNIX = 1;

  /** {@code TUNSETOFFLOAD}, {@code _IOW('T', 208, unsigned int)}. */
  static final int TUNSETOFFLOAD = 0x4004_54d0;

  /** The type byte of every KVM ioctl ({@code KVMIO}), in bits 8..15 of the command. */
  static final int KVMIO_TYPE = 0xae00;

  static final int IOCTL_TYPE_MASK = 0xff00;

  /** {@code prctl}'s option that names the calling thread. */
  static final int PR_SET_NAME = 15;

  /** Calls every filtered Java thread needs, whatever it does: see the class comment. */
  static final List<Syscall> JVM_BASE =
      List.of(
          FUTEX,
          SCHED_YIELD,
          SCHED_GETAFFINITY,
          NANOSLEEP,
          CLOCK_NANOSLEEP,
          CLOCK_GETTIME,
          CLOCK_GETRES,
          GETTIMEOFDAY,
          GETRUSAGE,
          GETTID,
          GETPID,
          GETRANDOM,
          RT_SIGPROCMASK,
          RT_SIGRETURN,
          SIGALTSTACK,
          RESTART_SYSCALL,
          MUNMAP,
          MREMAP,
          MADVISE,
          BRK,
          READ,
          WRITE,
          PREAD64,
          LSEEK,
          FSTAT,
          CLOSE,
          EXIT,
          EXIT_GROUP);

  /** The filter for this kind of thread in process {@code pid}, denying with {@code denyAction}. */
  public SeccompFilter filter(long pid, int denyAction) {
    Map<Syscall, List<ArgMatch>> allow = new EnumMap<>(Syscall.class);
    JVM_BASE.forEach(s -> allow.put(s, List.of()));
    // Executable memory too: the JVM commits its code cache (downcall stubs, adapters) on whichever
    // thread first needs the code, a vCPU's included; refusing it aborted the whole JVM in CI
    // ("os::commit_memory(..., exec) failed: Operation not permitted").
    allow.put(MMAP, List.of());
    allow.put(MPROTECT, List.of());
    // The vCPU kick and the JVM's own thread signals; tgkill to another process is denied.
    allow.put(TGKILL, List.of(ArgMatch.equal(0, (int) pid)));
    List<ArgMatch> ioctls =
        List.of(new ArgMatch(1, IOCTL_TYPE_MASK, KVMIO_TYPE), ArgMatch.equal(1, TUNSETOFFLOAD));
    // F_GETFD, F_SETFD, F_GETFL, F_SETFL: blocking mode of sockets. Not F_DUPFD or locks.
    List<ArgMatch> fcntl =
        List.of(
            ArgMatch.equal(1, 1), ArgMatch.equal(1, 2), ArgMatch.equal(1, 3), ArgMatch.equal(1, 4));
    switch (this) {
      case VCPU -> {
        allow.put(IOCTL, ioctls);
        // A vCPU thread is kept for the next VM and renames itself for each (VcpuThreadPool).
        allow.put(PRCTL, List.of(ArgMatch.equal(0, PR_SET_NAME)));
      }
      case DEVICE_LOOP -> {
        allow.put(IOCTL, ioctls);
        allow.put(FCNTL, fcntl);
        for (Syscall s :
            List.of(
                EPOLL_WAIT,
                EPOLL_PWAIT,
                EPOLL_CTL,
                TIMERFD_SETTIME,
                TIMERFD_GETTIME,
                PWRITE64,
                READV,
                WRITEV,
                FDATASYNC,
                FSYNC,
                CONNECT,
                SHUTDOWN,
                GETSOCKNAME,
                GETPEERNAME,
                GETSOCKOPT,
                ACCESS)) {
          allow.put(s, List.of());
        }
        allow.put(SOCKET, List.of(ArgMatch.equal(0, AF_UNIX)));
      }
      case VSOCK_HOST -> {
        allow.put(FCNTL, fcntl);
        for (Syscall s :
            List.of(
                EPOLL_WAIT,
                EPOLL_PWAIT,
                EPOLL_CTL,
                ACCEPT,
                ACCEPT4,
                READV,
                WRITEV,
                SHUTDOWN,
                GETSOCKNAME,
                GETPEERNAME,
                GETSOCKOPT)) {
          allow.put(s, List.of());
        }
      }
    }
    return new SeccompFilter(allow, denyAction);
  }
}
