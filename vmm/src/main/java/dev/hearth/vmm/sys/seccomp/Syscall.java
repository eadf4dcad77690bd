package dev.hearth.vmm.sys.seccomp;

/**
 * The x86_64 system calls that the VMM's filters name (allowed ones, and a few denied ones that
 * tests try), with their numbers from {@code arch/x86/entry/syscalls/syscall_64.tbl}.
 */
public enum Syscall {
  READ(0),
  WRITE(1),
  OPEN(2),
  CLOSE(3),
  STAT(4),
  FSTAT(5),
  LSEEK(8),
  MMAP(9),
  MPROTECT(10),
  MUNMAP(11),
  BRK(12),
  RT_SIGPROCMASK(14),
  RT_SIGRETURN(15),
  IOCTL(16),
  PREAD64(17),
  PWRITE64(18),
  READV(19),
  WRITEV(20),
  ACCESS(21),
  SCHED_YIELD(24),
  MREMAP(25),
  MADVISE(28),
  NANOSLEEP(35),
  GETPID(39),
  SOCKET(41),
  CONNECT(42),
  ACCEPT(43),
  SHUTDOWN(48),
  GETSOCKNAME(51),
  GETPEERNAME(52),
  GETSOCKOPT(55),
  CLONE(56),
  EXECVE(59),
  EXIT(60),
  KILL(62),
  FCNTL(72),
  FSYNC(74),
  FDATASYNC(75),
  GETTIMEOFDAY(96),
  GETRUSAGE(98),
  PTRACE(101),
  SIGALTSTACK(131),
  PRCTL(157),
  GETTID(186),
  FUTEX(202),
  SCHED_GETAFFINITY(204),
  RESTART_SYSCALL(219),
  CLOCK_GETTIME(228),
  CLOCK_GETRES(229),
  CLOCK_NANOSLEEP(230),
  EXIT_GROUP(231),
  EPOLL_WAIT(232),
  EPOLL_CTL(233),
  TGKILL(234),
  OPENAT(257),
  NEWFSTATAT(262),
  EPOLL_PWAIT(281),
  TIMERFD_SETTIME(286),
  TIMERFD_GETTIME(287),
  ACCEPT4(288),
  GETRANDOM(318),
  STATX(332),
  CLONE3(435);

  private final int number;

  Syscall(int number) {
    this.number = number;
  }

  /** The x86_64 system call number. */
  public int number() {
    return number;
  }

  /** The name as in the kernel's table ({@code epoll_wait}). */
  public String kernelName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
