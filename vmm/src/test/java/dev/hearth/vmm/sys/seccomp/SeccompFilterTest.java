package dev.hearth.vmm.sys.seccomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The compiled BPF program decides as the allow-list says: run here through an interpreter of the
 * instructions the kernel would run, against {@link SeccompFilter#decide}.
 */
class SeccompFilterTest {
  private static final int DENY = SeccompFilter.errno(1);
  private static final int I386 = 0x4000_0003;

  /** Runs {@code program} on one {@code struct seccomp_data}, as the kernel's BPF would. */
  static int run(BpfProgram program, int arch, int nr, long[] args) {
    List<BpfProgram.Insn> insns = program.instructions();
    int a = 0;
    int pc = 0;
    while (true) {
      BpfProgram.Insn in = insns.get(pc++);
      switch (in.code()) {
        case BpfProgram.LD | BpfProgram.W | BpfProgram.ABS -> {
          int off = in.k();
          a =
              switch (off) {
                case 0 -> nr;
                case 4 -> arch;
                default -> {
                  long arg = args[(off - 16) / 8];
                  yield (off - 16) % 8 == 0 ? (int) arg : (int) (arg >>> 32);
                }
              };
        }
        case BpfProgram.ALU | BpfProgram.AND | BpfProgram.K -> a &= in.k();
        case BpfProgram.JMP | BpfProgram.JEQ | BpfProgram.K ->
            pc += a == in.k() ? in.jt() : in.jf();
        case BpfProgram.JMP | BpfProgram.JGE | BpfProgram.K ->
            pc += Integer.compareUnsigned(a, in.k()) >= 0 ? in.jt() : in.jf();
        case BpfProgram.JMP | BpfProgram.JSET | BpfProgram.K ->
            pc += (a & in.k()) != 0 ? in.jt() : in.jf();
        case BpfProgram.RET | BpfProgram.K -> {
          return in.k();
        }
        default -> throw new AssertionError("unexpected instruction " + in);
      }
    }
  }

  @Test
  void everyProfileCompilesToAProgramThatDecidesAsItsList() {
    Random random = new Random(14);
    int[] interesting = {0, 1, 2, 3, 4, 0xae80, 0xae61, 0x4004_54d0, 0x4008_ae61, 4242, -1};
    for (ThreadProfile profile : ThreadProfile.values()) {
      SeccompFilter filter = profile.filter(4242, DENY);
      BpfProgram program = filter.compile();
      assertThat(program.size()).isLessThan(BpfProgram.MAX_INSTRUCTIONS);
      for (int i = 0; i < 200_000; i++) {
        int arch = random.nextInt(10) == 0 ? I386 : SeccompFilter.AUDIT_ARCH_X86_64;
        int nr = random.nextInt(20) == 0 ? random.nextInt() : random.nextInt(460);
        long[] args = new long[6];
        for (int j = 0; j < 6; j++) {
          args[j] =
              random.nextBoolean()
                  ? random.nextLong()
                  : interesting[random.nextInt(interesting.length)] & 0xffff_ffffL;
        }
        assertThat(run(program, arch, nr, args))
            .as("%s: arch %x nr %d args %s", profile, arch, nr, java.util.Arrays.toString(args))
            .isEqualTo(filter.decide(arch, nr, args));
      }
    }
  }

  @Test
  void argumentTestsAllowOnlyTheListedValues() {
    SeccompFilter vcpu = ThreadProfile.VCPU.filter(4242, DENY);
    int x86 = SeccompFilter.AUDIT_ARCH_X86_64;
    long kvmRun = 0xae80;
    assertThat(vcpu.decide(x86, Syscall.IOCTL.number(), new long[] {5, kvmRun, 0, 0, 0, 0}))
        .isEqualTo(SeccompFilter.RET_ALLOW);
    long tiocsti = 0x5412; // pushes input into a terminal
    assertThat(vcpu.decide(x86, Syscall.IOCTL.number(), new long[] {5, tiocsti, 0, 0, 0, 0}))
        .isEqualTo(DENY);
    long protRwx = 7; // the JVM's code cache, committed on whichever thread needs code
    assertThat(vcpu.decide(x86, Syscall.MMAP.number(), new long[] {0, 4096, protRwx, 0x22, -1, 0}))
        .isEqualTo(SeccompFilter.RET_ALLOW);
    assertThat(vcpu.decide(x86, Syscall.MMAP.number(), new long[] {0, 4096, 3, 0x22, -1, 0}))
        .isEqualTo(SeccompFilter.RET_ALLOW);
    assertThat(vcpu.decide(x86, Syscall.TGKILL.number(), new long[] {1, 1, 9, 0, 0, 0}))
        .isEqualTo(DENY);
    assertThat(vcpu.decide(x86, Syscall.TGKILL.number(), new long[] {4242, 4243, 34, 0, 0, 0}))
        .isEqualTo(SeccompFilter.RET_ALLOW);
    SeccompFilter loop = ThreadProfile.DEVICE_LOOP.filter(4242, DENY);
    int afInet = 2;
    assertThat(loop.decide(x86, Syscall.SOCKET.number(), new long[] {afInet, 1, 0, 0, 0, 0}))
        .isEqualTo(DENY);
    assertThat(loop.decide(x86, Syscall.SOCKET.number(), new long[] {1, 1, 0, 0, 0, 0}))
        .isEqualTo(SeccompFilter.RET_ALLOW);
    // Calls through the i386 ABI (int 0x80) or with the x32 bit are denied whatever the number.
    assertThat(vcpu.decide(I386, Syscall.FUTEX.number(), new long[6])).isEqualTo(DENY);
    assertThat(vcpu.decide(x86, Syscall.FUTEX.number() | 0x4000_0000, new long[6])).isEqualTo(DENY);
  }

  @Test
  void noProfileAllowsWhatWouldLeaveTheSandbox() {
    for (ThreadProfile profile : ThreadProfile.values()) {
      Map<Syscall, List<ArgMatch>> allowed = profile.filter(1, DENY).allowed();
      assertThat(allowed)
          .as("%s", profile)
          .doesNotContainKeys(
              Syscall.OPEN,
              Syscall.OPENAT,
              Syscall.EXECVE,
              Syscall.CLONE,
              Syscall.CLONE3,
              Syscall.PTRACE,
              Syscall.KILL,
              Syscall.STAT,
              Syscall.NEWFSTATAT,
              Syscall.STATX);
    }
    assertThat(ThreadProfile.VCPU.filter(1, DENY).allowed())
        .doesNotContainKeys(Syscall.SOCKET, Syscall.CONNECT, Syscall.ACCEPT, Syscall.EPOLL_WAIT);
  }

  @Test
  void jumpsBeyondOneByteAndBadActionsAreRefused() {
    assertThatThrownBy(() -> new BpfProgram().jumpIfEqual(1, 256, 0))
        .isInstanceOf(SeccompException.class)
        .hasMessageContaining("jump offset");
    assertThatThrownBy(() -> SeccompFilter.errno(0)).isInstanceOf(SeccompException.class);
    assertThatThrownBy(() -> new BpfProgram().encode(java.lang.foreign.Arena.global()))
        .isInstanceOf(SeccompException.class);
  }
}
