package dev.hearth.vmm.arch.x86_64;

import static dev.hearth.vmm.arch.x86_64.X86Layout.*;

import dev.hearth.vmm.kvm.Segment;
import dev.hearth.vmm.kvm.Sregs;
import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestMemory;

/**
 * What a 64-bit kernel entry needs: a flat GDT, an empty IDT, page tables that identity-map the
 * first GiB with 2 MiB pages, and special registers with protected mode, paging, PAE and long mode
 * on.
 */
public final class LongMode {
  static final long CR0_PE = 1;
  static final long CR0_PG = 0x8000_0000L;
  static final long CR4_PAE = 0x20;
  static final long EFER_LME = 0x100;
  static final long EFER_LMA = 0x400;

  /** Null, 64-bit code (selector 0x08), data (0x10) and TSS (0x18), as Firecracker sets them. */
  static final long[] GDT = {
    gdtEntry(0, 0, 0),
    gdtEntry(0xa09b, 0, 0xfffff),
    gdtEntry(0xc093, 0, 0xfffff),
    gdtEntry(0x808b, 0, 0xfffff),
  };

  private LongMode() {}

  /** A GDT descriptor from its flags (access byte plus flag nibble), base and limit. */
  static long gdtEntry(int flags, long base, long limit) {
    return ((base & 0xff00_0000L) << (56 - 24))
        | (((long) flags & 0xf0ff) << 40)
        | ((limit & 0xf_0000L) << (48 - 16))
        | ((base & 0x00ff_ffffL) << 16)
        | (limit & 0xffffL);
  }

  /** Writes the GDT, IDT and page tables into guest memory. */
  public static void writeTables(GuestMemory memory) {
    for (int i = 0; i < GDT.length; i++) {
      memory.writeLong(GuestAddress.of(GDT_START + 8L * i), GDT[i]);
    }
    memory.writeLong(GuestAddress.of(IDT_START), 0);
    memory.writeLong(GuestAddress.of(PML4_START), PDPTE_START | 0x03);
    memory.writeLong(GuestAddress.of(PDPTE_START), PDE_START | 0x03);
    for (long i = 0; i < 512; i++) {
      // Present, writable, 2 MiB page.
      memory.writeLong(GuestAddress.of(PDE_START + 8 * i), (i << 21) | 0x83);
    }
  }

  /** {@code current} with the segments, tables and control registers for a 64-bit entry. */
  public static Sregs apply(Sregs current) {
    Segment code = Segment.fromGdtEntry(1, GDT[1]);
    Segment data = Segment.fromGdtEntry(2, GDT[2]);
    Segment tss = Segment.fromGdtEntry(3, GDT[3]);
    return new Sregs(
        code,
        data,
        data,
        data,
        data,
        data,
        tss,
        current.ldt(),
        GDT_START,
        GDT.length * 8 - 1,
        IDT_START,
        7,
        current.cr0() | CR0_PE | CR0_PG,
        current.cr2(),
        PML4_START,
        current.cr4() | CR4_PAE,
        current.cr8(),
        current.efer() | EFER_LME | EFER_LMA,
        current.apicBase(),
        current.interruptBitmap());
  }
}
