package dev.hearth.vmm.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class MappedGuestMemoryTest {

  @Test
  void mapsEachRangeAndChecksEveryAccess() {
    try (MappedGuestMemory m =
        MappedGuestMemory.map(
            List.of(
                new MappedGuestMemory.Range(GuestAddress.of(0), 1 << 20),
                new MappedGuestMemory.Range(GuestAddress.of(1L << 32), 1 << 20)))) {
      GuestMemory mem = m.memory();
      assertThat(mem.totalSize()).isEqualTo(2 << 20);
      mem.writeLong(GuestAddress.of((1L << 32) + 8), 7);
      assertThat(mem.readLong(GuestAddress.of((1L << 32) + 8))).isEqualTo(7);
      assertThat(mem.regions().get(0).host().address() % 4096).isZero();
      assertThatThrownBy(() -> mem.readLong(GuestAddress.of((1 << 20) - 4)))
          .isInstanceOf(GuestMemoryException.class);
    }
  }

  @Test
  void refusesMisalignedOrOverlappingRanges() {
    assertThatThrownBy(() -> new MappedGuestMemory.Range(GuestAddress.of(0), 100))
        .isInstanceOf(GuestMemoryException.class);
    assertThatThrownBy(
            () ->
                MappedGuestMemory.map(
                    List.of(
                        new MappedGuestMemory.Range(GuestAddress.of(0), 8192),
                        new MappedGuestMemory.Range(GuestAddress.of(4096), 8192))))
        .hasMessageContaining("overlap");
  }
}
