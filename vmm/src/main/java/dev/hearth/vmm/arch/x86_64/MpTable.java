package dev.hearth.vmm.arch.x86_64;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The Intel MultiProcessor Specification 1.4 tables: a floating pointer and a configuration table
 * listing each vCPU's local APIC, one ISA bus, the IOAPIC, its 24 interrupt sources and the LINT0
 * (ExtINT) and LINT1 (NMI) wiring. A kernel without ACPI finds its CPUs and IOAPIC here.
 */
public final class MpTable {
  static final int FLOATING_SIZE = 16;
  static final int HEADER_SIZE = 44;
  static final int CPU_SIZE = 20;
  static final int ENTRY_SIZE = 8;
  static final int IOAPIC_PINS = 24;
  static final int APIC_VERSION = 0x14;
  static final int IOAPIC_VERSION = 0x11;

  private MpTable() {}

  /** The bytes to place at {@link X86Layout#MPTABLE_START} for {@code vcpus} vCPUs. */
  public static byte[] build(int vcpus) {
    if (vcpus < 1 || vcpus > X86Layout.MAX_VCPUS) {
      throw new IllegalArgumentException(
          "MP table for " + vcpus + " vCPUs: 1.." + X86Layout.MAX_VCPUS);
    }
    int entries = vcpus + 1 + 1 + IOAPIC_PINS + 2;
    int tableSize = HEADER_SIZE + CPU_SIZE * vcpus + ENTRY_SIZE * (entries - vcpus);
    ByteBuffer b = ByteBuffer.allocate(FLOATING_SIZE + tableSize).order(ByteOrder.LITTLE_ENDIAN);
    long tableAddress = X86Layout.MPTABLE_START + FLOATING_SIZE;
    int ioapicId = vcpus + 1;

    // Floating pointer structure.
    b.put("_MP_".getBytes(StandardCharsets.US_ASCII));
    b.putInt((int) tableAddress);
    b.put((byte) 1); // length in 16-byte units
    b.put((byte) 4); // spec revision 1.4
    b.put((byte) 0); // checksum, below
    b.put(new byte[5]); // features: 0 = a configuration table is present
    b.put(FLOATING_SIZE - 6, checksum(b.array(), 0, FLOATING_SIZE));

    // Configuration table header.
    int t = FLOATING_SIZE;
    b.put("PCMP".getBytes(StandardCharsets.US_ASCII));
    b.putShort((short) tableSize);
    b.put((byte) 4);
    b.put((byte) 0); // checksum, below
    b.put("HEARTH  ".getBytes(StandardCharsets.US_ASCII));
    b.put("MICROVM     ".getBytes(StandardCharsets.US_ASCII));
    b.putInt(0); // OEM table pointer
    b.putShort((short) 0); // OEM table size
    b.putShort((short) entries);
    b.putInt((int) X86Layout.APIC_ADDRESS);
    b.putInt(0); // extended table length and checksum, reserved

    for (int cpu = 0; cpu < vcpus; cpu++) {
      b.put((byte) 0); // processor
      b.put((byte) cpu);
      b.put((byte) APIC_VERSION);
      b.put((byte) (1 | (cpu == 0 ? 2 : 0))); // enabled, bootstrap processor
      b.putInt(0x600); // CPU signature: family 6
      b.putInt(0x201); // features: APIC and FPU
      b.putLong(0);
    }
    b.put((byte) 1).put((byte) 0).put("ISA   ".getBytes(StandardCharsets.US_ASCII));
    b.put((byte) 2).put((byte) ioapicId).put((byte) IOAPIC_VERSION).put((byte) 1);
    b.putInt((int) X86Layout.IOAPIC_ADDRESS);
    for (int irq = 0; irq < IOAPIC_PINS; irq++) {
      // I/O interrupt: INT, conforming polarity and trigger, ISA bus IRQ -> IOAPIC pin.
      b.put((byte) 3).put((byte) 0).putShort((short) 0);
      b.put((byte) 0).put((byte) irq).put((byte) ioapicId).put((byte) irq);
    }
    // Local interrupts: ExtINT to LINT0 of the BSP, NMI to LINT1 of every CPU.
    b.put((byte) 4).put((byte) 3).putShort((short) 0);
    b.put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0);
    b.put((byte) 4).put((byte) 1).putShort((short) 0);
    b.put((byte) 0).put((byte) 0).put((byte) 0xff).put((byte) 1);

    if (b.position() != b.capacity()) {
      throw new IllegalStateException("MP table size mismatch: " + b.position());
    }
    b.put(t + 7, checksum(b.array(), t, tableSize));
    return b.array();
  }

  /** The byte that makes {@code data[off..off+len)} sum to zero. */
  static byte checksum(byte[] data, int off, int len) {
    int sum = 0;
    for (int i = off; i < off + len; i++) {
      sum += data[i];
    }
    return (byte) -sum;
  }
}
