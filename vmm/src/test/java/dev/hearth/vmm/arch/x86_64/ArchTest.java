package dev.hearth.vmm.arch.x86_64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.vmm.TestMemory;
import dev.hearth.vmm.kvm.CpuidEntry;
import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class ArchTest {

  @Test
  void gdtMatchesFirecrackersFlatSegments() {
    assertThat(LongMode.GDT)
        .containsExactly(0L, 0x00af9b000000ffffL, 0x00cf93000000ffffL, 0x008f8b000000ffffL);
  }

  @Test
  void pageTablesIdentityMapTheFirstGibWithTwoMibPages() {
    GuestMemory mem = TestMemory.of(1 << 20);
    LongMode.writeTables(mem);
    assertThat(mem.readLong(GuestAddress.of(X86Layout.PML4_START))).isEqualTo(0xa003L);
    assertThat(mem.readLong(GuestAddress.of(X86Layout.PDPTE_START))).isEqualTo(0xb003L);
    assertThat(mem.readLong(GuestAddress.of(X86Layout.PDE_START))).isEqualTo(0x83L);
    assertThat(mem.readLong(GuestAddress.of(X86Layout.PDE_START + 8 * 511)))
        .isEqualTo((511L << 21) | 0x83);
    assertThat(mem.readLong(GuestAddress.of(X86Layout.GDT_START + 8))).isEqualTo(LongMode.GDT[1]);
  }

  @Test
  void ramBelowTheMmioGapIsOneRangeAndTheRestGoesAboveFourGib() {
    assertThat(GuestRam.ranges(64L << 20)).hasSize(1);
    var big = GuestRam.ranges(4L << 30);
    assertThat(big).hasSize(2);
    assertThat(big.get(0).size()).isEqualTo(X86Layout.MMIO_GAP_START);
    assertThat(big.get(1).start().raw()).isEqualTo(1L << 32);
    assertThat(big.get(1).size()).isEqualTo((4L << 30) - X86Layout.MMIO_GAP_START);
    assertThat(GuestRam.e820(4L << 30))
        .containsExactly(
            new E820Entry(0, 0x9fc00, E820Entry.RAM),
            new E820Entry(0x100000, X86Layout.MMIO_GAP_START - 0x100000, E820Entry.RAM),
            new E820Entry(1L << 32, (4L << 30) - X86Layout.MMIO_GAP_START, E820Entry.RAM));
  }

  @Test
  void bootParamsPutFieldsWhereTheBootProtocolSays() {
    byte[] zp =
        new BootParams()
            .loader()
            .cmdline(0x20000, 12)
            .initrd(0x3000000, 4096)
            .e820(GuestRam.e820(64L << 20))
            .bytes();
    ByteBuffer b = ByteBuffer.wrap(zp).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(b.getShort(0x1fe) & 0xffff).isEqualTo(0xaa55);
    assertThat(b.getInt(0x202)).isEqualTo(BootParams.HDRS);
    assertThat(zp[0x210] & 0xff).isEqualTo(0xff);
    assertThat(b.getInt(0x228)).isEqualTo(0x20000);
    assertThat(b.getInt(0x238)).isEqualTo(12);
    assertThat(b.getInt(0x218)).isEqualTo(0x3000000);
    assertThat(b.getInt(0x21c)).isEqualTo(4096);
    assertThat(zp[0x1e8]).isEqualTo((byte) 2);
    assertThat(b.getLong(0x2d0 + 20 + 8)).isEqualTo((64L << 20) - 0x100000);
    assertThat(b.getInt(0x2d0 + 20 + 16)).isEqualTo(E820Entry.RAM);
  }

  @Test
  void mpTableChecksumsAndListsEveryCpuAndTheIoapic() {
    for (int cpus : new int[] {1, 4, 32}) {
      byte[] t = MpTable.build(cpus);
      ByteBuffer b = ByteBuffer.wrap(t).order(ByteOrder.LITTLE_ENDIAN);
      assertThat(new String(t, 0, 4)).isEqualTo("_MP_");
      assertThat(sum(t, 0, 16)).isZero();
      assertThat(b.getInt(4)).isEqualTo((int) X86Layout.MPTABLE_START + 16);
      assertThat(new String(t, 16, 4)).isEqualTo("PCMP");
      int len = b.getShort(16 + 4);
      assertThat(16 + len).isEqualTo(t.length).isLessThanOrEqualTo(0xa0000 - 0x9fc00);
      assertThat(sum(t, 16, len)).isZero();
      assertThat(b.getShort(16 + 34)).isEqualTo((short) (cpus + 1 + 1 + 24 + 2));
      for (int cpu = 0; cpu < cpus; cpu++) {
        int o = 16 + 44 + 20 * cpu;
        assertThat(t[o]).isZero();
        assertThat(t[o + 1]).isEqualTo((byte) cpu);
        assertThat(t[o + 3]).isEqualTo((byte) (cpu == 0 ? 3 : 1));
      }
    }
    assertThatThrownBy(() -> MpTable.build(33)).isInstanceOf(IllegalArgumentException.class);
  }

  private static int sum(byte[] t, int off, int len) {
    int s = 0;
    for (int i = off; i < off + len; i++) {
      s += t[i];
    }
    return s & 0xff;
  }

  @Test
  void cpuidGivesEachVcpuItsApicIdAndAnnouncesTheHypervisor() {
    List<CpuidEntry> supported =
        List.of(
            new CpuidEntry(1, 0, 0, 0x806f0, 0x00ff00ff, 0, 0),
            new CpuidEntry(0xb, 0, 1, 1, 1, 0x100, 7),
            new CpuidEntry(4, 0, 1, 0x121, 0, 0, 0));
    List<CpuidEntry> out = Cpuid.forVcpu(supported, 3, 4);
    CpuidEntry leaf1 = out.get(0);
    assertThat(leaf1.ebx() >>> 24).isEqualTo(3);
    assertThat((leaf1.ebx() >>> 16) & 0xff).isEqualTo(4);
    assertThat(leaf1.ecx() & Cpuid.HYPERVISOR_BIT).isNotZero();
    assertThat(leaf1.edx() & Cpuid.HTT_BIT).isNotZero();
    assertThat(out.get(1).edx()).isEqualTo(3);
    assertThat(out.get(2).eax() >>> 26).isEqualTo(3);
    assertThat(out).anyMatch(e -> e.function() == 0x40000000 && e.ebx() == Cpuid.KVM_EBX);
  }

  @Test
  void lapicLint0IsExtIntAndLint1IsNmi() {
    byte[] state = new byte[1024];
    state[0x350 + 1] = 0x07; // garbage in the delivery-mode bits
    byte[] out = Lapic.withLint(state);
    ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    assertThat((b.getInt(0x350) >> 8) & 7).isEqualTo(7);
    assertThat((b.getInt(0x360) >> 8) & 7).isEqualTo(4);
  }
}
