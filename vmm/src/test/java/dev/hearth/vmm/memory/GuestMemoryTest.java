package dev.hearth.vmm.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GuestMemoryTest {
  private final Arena arena = Arena.ofConfined();

  @AfterEach
  void close() {
    arena.close();
  }

  private GuestRegion region(long start, long size) {
    return new GuestRegion(GuestAddress.of(start), arena.allocate(size));
  }

  @Test
  void readsBackWhatItWritesLittleEndian() {
    GuestMemory mem = GuestMemory.of(List.of(region(0x1000, 0x1000)));
    mem.writeInt(GuestAddress.of(0x1ffc), 0x11223344);
    assertThat(mem.readByte(GuestAddress.of(0x1ffc))).isEqualTo((byte) 0x44);
    assertThat(mem.readInt(GuestAddress.of(0x1ffc))).isEqualTo(0x11223344);
    mem.writeLong(GuestAddress.of(0x1000), -2L);
    assertThat(mem.readLong(GuestAddress.of(0x1000))).isEqualTo(-2L);
  }

  @Test
  void onceTrackingEveryWriteMarksItsPagesAndReadsMarkNone() {
    GuestMemory mem = GuestMemory.of(List.of(region(0, 0x4000), region(0x100000, 0x200000)));
    mem.writeInt(GuestAddress.of(0x10), 1); // before tracking: not recorded
    mem.dirtyPages().start();
    mem.readLong(GuestAddress.of(0x2000));
    mem.slice(GuestAddress.of(0x3000), 16);
    mem.write(GuestAddress.of(0x0ffe), new byte[4], 0, 4); // pages 0 and 1
    mem.writableSlice(GuestAddress.of(0x100000 + 64 * 4096), 1); // region 1, page 64
    assertThat(mem.dirtyPages().drain(0)).containsExactly(0b11L);
    long[] second = mem.dirtyPages().drain(1);
    assertThat(second).hasSize(8);
    assertThat(second[1]).isEqualTo(1L);
    assertThat(mem.dirtyPages().drain(0)).containsExactly(0L); // drained
  }

  @Test
  void rejectsAccessesOutsideOrAcrossRegions() {
    GuestMemory mem = GuestMemory.of(List.of(region(0, 0x1000), region(0x1000, 0x1000)));
    // Adjacent regions still may not be crossed by one access: they are separate mappings.
    assertThatThrownBy(() -> mem.readInt(GuestAddress.of(0xffe)))
        .isInstanceOf(GuestMemoryException.class)
        .hasMessageContaining("0xffe");
    assertThatThrownBy(() -> mem.readByte(GuestAddress.of(0x2000)))
        .isInstanceOf(GuestMemoryException.class);
    assertThatThrownBy(() -> mem.slice(GuestAddress.of(0x10), -1))
        .isInstanceOf(GuestMemoryException.class);
  }

  @Test
  void hostileAddressesNearTheTopOfTheAddressSpaceFailCleanly() {
    GuestMemory mem = GuestMemory.of(List.of(region(0, 0x1000)));
    assertThatThrownBy(() -> mem.readLong(GuestAddress.of(-4L)))
        .isInstanceOf(GuestMemoryException.class);
    assertThatThrownBy(() -> mem.slice(GuestAddress.of(8), Long.MAX_VALUE))
        .isInstanceOf(GuestMemoryException.class);
    assertThatThrownBy(() -> GuestAddress.of(-1L).plus(1))
        .isInstanceOf(GuestMemoryException.class)
        .hasMessageContaining("overflow");
    assertThat(mem.isValid(GuestAddress.of(0xfff), 1)).isTrue();
    assertThat(mem.isValid(GuestAddress.of(0x1000), 0)).isTrue();
    assertThat(mem.isValid(GuestAddress.of(0x1000), 1)).isFalse();
  }

  @Test
  void rejectsOverlappingRegions() {
    assertThatThrownBy(() -> GuestMemory.of(List.of(region(0, 0x2000), region(0x1000, 0x1000))))
        .isInstanceOf(GuestMemoryException.class)
        .hasMessageContaining("overlap");
  }

  @Test
  void copiesByteArraysBothWays() {
    GuestMemory mem = GuestMemory.of(List.of(region(0x100000, 0x100)));
    byte[] data = {1, 2, 3, 4, 5};
    mem.write(GuestAddress.of(0x100010), data, 1, 3);
    byte[] back = new byte[5];
    mem.read(GuestAddress.of(0x10000f), back, 0, 5);
    assertThat(back).containsExactly(0, 2, 3, 4, 0);
  }
}
