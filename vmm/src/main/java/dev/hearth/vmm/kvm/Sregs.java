package dev.hearth.vmm.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A vCPU's special registers ({@code struct kvm_sregs}, 312 bytes): segments, descriptor tables,
 * control registers and EFER. The pending-interrupt bitmap is carried through unchanged.
 */
public record Sregs(
    Segment cs,
    Segment ds,
    Segment es,
    Segment fs,
    Segment gs,
    Segment ss,
    Segment tr,
    Segment ldt,
    long gdtBase,
    int gdtLimit,
    long idtBase,
    int idtLimit,
    long cr0,
    long cr2,
    long cr3,
    long cr4,
    long cr8,
    long efer,
    long apicBase,
    InterruptBitmap interruptBitmap) {

  static final int SIZE = 312;

  /** The opaque 256-bit pending-interrupt bitmap. */
  public record InterruptBitmap(long w0, long w1, long w2, long w3) {}

  static Sregs read(MemorySegment s) {
    return new Sregs(
        Segment.read(s, 0),
        Segment.read(s, 24),
        Segment.read(s, 48),
        Segment.read(s, 72),
        Segment.read(s, 96),
        Segment.read(s, 120),
        Segment.read(s, 144),
        Segment.read(s, 168),
        s.get(ValueLayout.JAVA_LONG, 192),
        Short.toUnsignedInt(s.get(ValueLayout.JAVA_SHORT, 200)),
        s.get(ValueLayout.JAVA_LONG, 208),
        Short.toUnsignedInt(s.get(ValueLayout.JAVA_SHORT, 216)),
        s.get(ValueLayout.JAVA_LONG, 224),
        s.get(ValueLayout.JAVA_LONG, 232),
        s.get(ValueLayout.JAVA_LONG, 240),
        s.get(ValueLayout.JAVA_LONG, 248),
        s.get(ValueLayout.JAVA_LONG, 256),
        s.get(ValueLayout.JAVA_LONG, 264),
        s.get(ValueLayout.JAVA_LONG, 272),
        new InterruptBitmap(
            s.get(ValueLayout.JAVA_LONG, 280),
            s.get(ValueLayout.JAVA_LONG, 288),
            s.get(ValueLayout.JAVA_LONG, 296),
            s.get(ValueLayout.JAVA_LONG, 304)));
  }

  void write(MemorySegment s) {
    s.fill((byte) 0);
    Segment[] segs = {cs, ds, es, fs, gs, ss, tr, ldt};
    for (int i = 0; i < segs.length; i++) {
      segs[i].write(s, i * 24L);
    }
    s.set(ValueLayout.JAVA_LONG, 192, gdtBase);
    s.set(ValueLayout.JAVA_SHORT, 200, (short) gdtLimit);
    s.set(ValueLayout.JAVA_LONG, 208, idtBase);
    s.set(ValueLayout.JAVA_SHORT, 216, (short) idtLimit);
    s.set(ValueLayout.JAVA_LONG, 224, cr0);
    s.set(ValueLayout.JAVA_LONG, 232, cr2);
    s.set(ValueLayout.JAVA_LONG, 240, cr3);
    s.set(ValueLayout.JAVA_LONG, 248, cr4);
    s.set(ValueLayout.JAVA_LONG, 256, cr8);
    s.set(ValueLayout.JAVA_LONG, 264, efer);
    s.set(ValueLayout.JAVA_LONG, 272, apicBase);
    s.set(ValueLayout.JAVA_LONG, 280, interruptBitmap.w0());
    s.set(ValueLayout.JAVA_LONG, 288, interruptBitmap.w1());
    s.set(ValueLayout.JAVA_LONG, 296, interruptBitmap.w2());
    s.set(ValueLayout.JAVA_LONG, 304, interruptBitmap.w3());
  }

  @Override
  public String toString() {
    return String.format(
        "cr0=%016x cr2=%016x cr3=%016x cr4=%016x efer=%016x%n"
            + "cs=%04x base=%x ss=%04x ds=%04x gdt=%x/%x idt=%x/%x",
        cr0,
        cr2,
        cr3,
        cr4,
        efer,
        cs.selector(),
        cs.base(),
        ss.selector(),
        ds.selector(),
        gdtBase,
        gdtLimit,
        idtBase,
        idtLimit);
  }
}
