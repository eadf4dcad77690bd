package dev.hearth.vmm.sys.seccomp;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * An allow-list of system calls, compiled to a seccomp BPF program: calls on the list (with an
 * argument that passes one of their {@link ArgMatch}es, when they have any) are allowed, and any
 * other call gets {@code denyAction}. A call made through another ABI (i386's {@code int 0x80},
 * x32's numbers) is denied too, since its numbers mean other calls.
 *
 * @param allowed each allowed call, with the argument tests of which one must pass (none: any
 *     arguments)
 * @param denyAction what a call off the list gets ({@link #errno}, {@link #RET_LOG}, ...)
 */
public record SeccompFilter(Map<Syscall, List<ArgMatch>> allowed, int denyAction) {
  /** Allows the call. */
  public static final int RET_ALLOW = 0x7fff_0000;

  /** Allows the call and logs it (learning and debugging). */
  public static final int RET_LOG = 0x7ffc_0000;

  /** Kills the whole process. */
  public static final int RET_KILL_PROCESS = 0x8000_0000;

  static final int AUDIT_ARCH_X86_64 = 0xc000_003e;
  static final int X32_SYSCALL_BIT = 0x4000_0000;
  static final int OFFSET_NR = 0;
  static final int OFFSET_ARCH = 4;
  static final int OFFSET_ARGS = 16;

  public SeccompFilter {
    EnumMap<Syscall, List<ArgMatch>> copy = new EnumMap<>(Syscall.class);
    allowed.forEach((call, tests) -> copy.put(call, List.copyOf(tests)));
    allowed = Map.copyOf(copy);
  }

  /** Fails the call with {@code errno} instead of making it. */
  public static int errno(int errno) {
    if (errno < 1 || errno > 0xfff) {
      throw new SeccompException("errno " + errno + " is out of range 1..4095");
    }
    return 0x0005_0000 | errno;
  }

  /** What the compiled program decides for a call ({@link #RET_ALLOW} or {@link #denyAction}). */
  public int decide(int arch, int nr, long[] args) {
    if (arch != AUDIT_ARCH_X86_64 || Integer.compareUnsigned(nr, X32_SYSCALL_BIT) >= 0) {
      return denyAction;
    }
    for (Map.Entry<Syscall, List<ArgMatch>> e : allowed.entrySet()) {
      if (e.getKey().number() == nr) {
        List<ArgMatch> tests = e.getValue();
        return tests.isEmpty() || tests.stream().anyMatch(m -> m.test(args[m.index()]))
            ? RET_ALLOW
            : denyAction;
      }
    }
    return denyAction;
  }

  /** The BPF program that decides as {@link #decide} does. */
  public BpfProgram compile() {
    BpfProgram p = new BpfProgram();
    p.load(OFFSET_ARCH).jumpIfEqual(AUDIT_ARCH_X86_64, 1, 0).ret(denyAction);
    p.load(OFFSET_NR).jumpIfAtLeast(X32_SYSCALL_BIT, 0, 1).ret(denyAction);
    List<Syscall> calls = new ArrayList<>(allowed.keySet());
    calls.sort(Comparator.comparingInt(Syscall::number));
    for (Syscall call : calls) {
      List<ArgMatch> tests = allowed.get(call);
      if (tests.isEmpty()) {
        p.jumpIfEqual(call.number(), 0, 1).ret(RET_ALLOW);
        continue;
      }
      // Each test: load the argument's low word, mask it, compare, allow on a match. Every path
      // through the block returns, so the accumulator need not be reloaded with the number.
      int blockLength = 1;
      for (ArgMatch m : tests) {
        blockLength += m.mask() == -1 ? 3 : 4;
      }
      p.jumpIfEqual(call.number(), 0, blockLength);
      for (ArgMatch m : tests) {
        p.load(OFFSET_ARGS + 8 * m.index());
        if (m.mask() != -1) {
          p.and(m.mask());
        }
        p.jumpIfEqual(m.value(), 0, 1).ret(RET_ALLOW);
      }
      p.ret(denyAction);
    }
    return p.ret(denyAction);
  }
}
