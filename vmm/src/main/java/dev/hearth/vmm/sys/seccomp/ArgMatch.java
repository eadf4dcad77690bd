package dev.hearth.vmm.sys.seccomp;

/**
 * A test on one system-call argument: true when {@code (arg & mask) == value}, on the argument's
 * low 32 bits. Every argument the VMM's filters test is one the kernel reads as 32 bits ({@code
 * ioctl}'s command, {@code socket}'s domain, {@code tgkill}'s pid) or a flag word whose tested bit
 * lies in the low half ({@code mmap}'s {@code prot}), so the high half cannot smuggle anything
 * past.
 *
 * @param index the argument, 0 to 5
 * @param mask the bits compared
 * @param value what they must equal
 */
public record ArgMatch(int index, int mask, int value) {
  public ArgMatch {
    if (index < 0 || index > 5) {
      throw new SeccompException("a system call has arguments 0..5, not " + index);
    }
    if ((value & ~mask) != 0) {
      throw new SeccompException(
          "argument "
              + index
              + ": value 0x"
              + Integer.toHexString(value)
              + " has bits outside the mask");
    }
  }

  /** Argument {@code index} equals {@code value}. */
  public static ArgMatch equal(int index, int value) {
    return new ArgMatch(index, -1, value);
  }

  /** Argument {@code index} has none of {@code bits}. */
  public static ArgMatch noneOf(int index, int bits) {
    return new ArgMatch(index, bits, 0);
  }

  /** Whether {@code arg} passes (what the compiled filter computes). */
  public boolean test(long arg) {
    return ((int) arg & mask) == value;
  }
}
