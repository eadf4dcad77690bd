package dev.hearth.vmm.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A vCPU's general-purpose registers ({@code struct kvm_regs}). */
public record Regs(
    long rax,
    long rbx,
    long rcx,
    long rdx,
    long rsi,
    long rdi,
    long rsp,
    long rbp,
    long r8,
    long r9,
    long r10,
    long r11,
    long r12,
    long r13,
    long r14,
    long r15,
    long rip,
    long rflags) {

  static final int SIZE = 144;

  /** Registers for a fresh 64-bit entry at {@code rip} with stack {@code rsp} and {@code rsi}. */
  public static Regs entry(long rip, long rsp, long rsi) {
    return new Regs(0, 0, 0, 0, rsi, 0, rsp, rsp, 0, 0, 0, 0, 0, 0, 0, 0, rip, 2);
  }

  static Regs read(MemorySegment s) {
    long[] v = new long[18];
    for (int i = 0; i < 18; i++) {
      v[i] = s.get(ValueLayout.JAVA_LONG, i * 8L);
    }
    return new Regs(
        v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13],
        v[14], v[15], v[16], v[17]);
  }

  void write(MemorySegment s) {
    long[] v = {
      rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rflags
    };
    for (int i = 0; i < 18; i++) {
      s.set(ValueLayout.JAVA_LONG, i * 8L, v[i]);
    }
  }

  @Override
  public String toString() {
    return String.format(
        "rip=%016x rsp=%016x rbp=%016x rflags=%016x%n"
            + "rax=%016x rbx=%016x rcx=%016x rdx=%016x%n"
            + "rsi=%016x rdi=%016x r8=%016x r9=%016x%n"
            + "r10=%016x r11=%016x r12=%016x r13=%016x r14=%016x r15=%016x",
        rip, rsp, rbp, rflags, rax, rbx, rcx, rdx, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15);
  }
}
