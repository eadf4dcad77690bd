package dev.hearth.vmm.arch.x86_64;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Local APIC set-up: LINT0 delivers ExtINT (the PIC's output) and LINT1 delivers NMI, as a
 * PC-compatible BIOS leaves them.
 */
public final class Lapic {
  static final int LVT_LINT0 = 0x350;
  static final int LVT_LINT1 = 0x360;
  static final int MODE_NMI = 4;
  static final int MODE_EXTINT = 7;

  private Lapic() {}

  /** {@code state} (a {@code KVM_GET_LAPIC} page) with LINT0 and LINT1 set. */
  public static byte[] withLint(byte[] state) {
    ByteBuffer b = ByteBuffer.wrap(state.clone()).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(LVT_LINT0, deliveryMode(b.getInt(LVT_LINT0), MODE_EXTINT));
    b.putInt(LVT_LINT1, deliveryMode(b.getInt(LVT_LINT1), MODE_NMI));
    return b.array();
  }

  static int deliveryMode(int reg, int mode) {
    return (reg & ~0x700) | (mode << 8);
  }
}
