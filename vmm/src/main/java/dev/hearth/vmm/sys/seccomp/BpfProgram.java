package dev.hearth.vmm.sys.seccomp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * A classic BPF program as seccomp runs it: {@code struct sock_filter} instructions (16-bit code,
 * 8-bit true and false jump offsets, 32-bit constant), built one instruction at a time. Only the
 * instructions a syscall filter needs are offered: loads from {@code struct seccomp_data}, AND with
 * a constant, conditional jumps against a constant, and return.
 */
public final class BpfProgram {
  // linux/bpf_common.h
  static final int LD = 0x00;
  static final int ALU = 0x04;
  static final int JMP = 0x05;
  static final int RET = 0x06;
  static final int W = 0x00;
  static final int ABS = 0x20;
  static final int AND = 0x50;
  static final int JEQ = 0x10;
  static final int JGE = 0x30;
  static final int JSET = 0x40;
  static final int K = 0x00;

  /** The kernel's limit on a filter's length (BPF_MAXINSNS). */
  public static final int MAX_INSTRUCTIONS = 4096;

  /** One {@code struct sock_filter}. */
  public record Insn(int code, int jt, int jf, int k) {
    public Insn {
      if (jt < 0 || jt > 255 || jf < 0 || jf > 255) {
        throw new SeccompException("BPF jump offset out of range 0..255: jt " + jt + " jf " + jf);
      }
    }
  }

  private final List<Insn> insns = new ArrayList<>();

  /** {@code A = *(u32 *)(seccomp_data + offset)}. */
  public BpfProgram load(int offset) {
    return add(new Insn(LD | W | ABS, 0, 0, offset));
  }

  /** {@code A &= k}. */
  public BpfProgram and(int k) {
    return add(new Insn(ALU | AND | K, 0, 0, k));
  }

  /** {@code pc += (A == k) ? jt : jf}. */
  public BpfProgram jumpIfEqual(int k, int jt, int jf) {
    return add(new Insn(JMP | JEQ | K, jt, jf, k));
  }

  /** {@code pc += (A >= k) ? jt : jf}, unsigned. */
  public BpfProgram jumpIfAtLeast(int k, int jt, int jf) {
    return add(new Insn(JMP | JGE | K, jt, jf, k));
  }

  /** {@code pc += (A & k) != 0 ? jt : jf}. */
  public BpfProgram jumpIfAnySet(int k, int jt, int jf) {
    return add(new Insn(JMP | JSET | K, jt, jf, k));
  }

  /** Ends the filter with {@code action} (a {@code SECCOMP_RET_*} value). */
  public BpfProgram ret(int action) {
    return add(new Insn(RET | K, 0, 0, action));
  }

  /** The instructions so far. */
  public List<Insn> instructions() {
    return List.copyOf(insns);
  }

  /** How many instructions so far. */
  public int size() {
    return insns.size();
  }

  /** The program as the kernel reads it: 8 bytes per instruction, native byte order. */
  public MemorySegment encode(Arena arena) {
    if (insns.isEmpty() || insns.size() > MAX_INSTRUCTIONS) {
      throw new SeccompException(
          "a BPF program needs 1.." + MAX_INSTRUCTIONS + " instructions, not " + insns.size());
    }
    MemorySegment seg = arena.allocate(8L * insns.size(), 8);
    for (int i = 0; i < insns.size(); i++) {
      Insn in = insns.get(i);
      long base = 8L * i;
      seg.set(ValueLayout.JAVA_SHORT, base, (short) in.code());
      seg.set(ValueLayout.JAVA_BYTE, base + 2, (byte) in.jt());
      seg.set(ValueLayout.JAVA_BYTE, base + 3, (byte) in.jf());
      seg.set(ValueLayout.JAVA_INT, base + 4, in.k());
    }
    return seg;
  }

  private BpfProgram add(Insn insn) {
    insns.add(insn);
    return this;
  }
}
