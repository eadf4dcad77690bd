package dev.hearth.vmm.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A segment register as KVM sees it ({@code struct kvm_segment}, 24 bytes). */
public record Segment(
    long base,
    int limit,
    int selector,
    int type,
    int present,
    int dpl,
    int db,
    int s,
    int l,
    int g,
    int avl,
    int unusable) {

  static final int SIZE = 24;

  /**
   * The segment a GDT descriptor {@code entry} at {@code index} describes: base, limit (scaled by
   * granularity), type and flags unpacked from the descriptor bits.
   */
  public static Segment fromGdtEntry(int index, long entry) {
    long base = ((entry >>> 16) & 0xffffffL) | (((entry >>> 56) & 0xff) << 24);
    long rawLimit = (entry & 0xffff) | (((entry >>> 48) & 0xf) << 16);
    int g = (int) ((entry >>> 55) & 1);
    long limit = g == 1 ? (rawLimit << 12) | 0xfff : rawLimit;
    int present = (int) ((entry >>> 47) & 1);
    return new Segment(
        base,
        (int) limit,
        index * 8,
        (int) ((entry >>> 40) & 0xf),
        present,
        (int) ((entry >>> 45) & 3),
        (int) ((entry >>> 54) & 1),
        (int) ((entry >>> 44) & 1),
        (int) ((entry >>> 53) & 1),
        g,
        (int) ((entry >>> 52) & 1),
        present == 1 ? 0 : 1);
  }

  static Segment read(MemorySegment s, long off) {
    return new Segment(
        s.get(ValueLayout.JAVA_LONG, off),
        s.get(ValueLayout.JAVA_INT, off + 8),
        Short.toUnsignedInt(s.get(ValueLayout.JAVA_SHORT, off + 12)),
        u8(s, off + 14),
        u8(s, off + 15),
        u8(s, off + 16),
        u8(s, off + 17),
        u8(s, off + 18),
        u8(s, off + 19),
        u8(s, off + 20),
        u8(s, off + 21),
        u8(s, off + 22));
  }

  void write(MemorySegment s, long off) {
    s.set(ValueLayout.JAVA_LONG, off, base);
    s.set(ValueLayout.JAVA_INT, off + 8, limit);
    s.set(ValueLayout.JAVA_SHORT, off + 12, (short) selector);
    int[] bytes = {type, present, dpl, db, this.s, l, g, avl, unusable, 0};
    for (int i = 0; i < bytes.length; i++) {
      s.set(ValueLayout.JAVA_BYTE, off + 14 + i, (byte) bytes[i]);
    }
  }

  private static int u8(MemorySegment s, long off) {
    return Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, off));
  }
}
