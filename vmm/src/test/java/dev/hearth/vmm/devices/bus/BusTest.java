package dev.hearth.vmm.devices.bus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BusTest {
  private final List<String> accesses = new ArrayList<>();

  private BusDevice recorder(String name) {
    return new BusDevice() {
      @Override
      public void read(long offset, byte[] data) {
        accesses.add(name + " read " + offset + "/" + data.length);
        data[0] = 0x5a;
      }

      @Override
      public void write(long offset, byte[] data) {
        accesses.add(name + " write " + offset + "/" + data.length);
      }
    };
  }

  @Test
  void dispatchesByRangeWithOffsetsRelativeToTheDevice() {
    Bus bus = new MmioBus();
    bus.register(0x1000, 0x100, recorder("a"), "a");
    bus.register(0x1100, 0x100, recorder("b"), "b");
    byte[] four = new byte[4];
    assertThat(bus.read(0x1104, four)).isTrue();
    assertThat(four[0]).isEqualTo((byte) 0x5a);
    assertThat(bus.write(0x10fc, new byte[4])).isTrue();
    assertThat(accesses).containsExactly("b read 4/4", "a write 252/4");
  }

  @Test
  void unmappedReadsAreAllOnesAndAccessesPastADevicesEndAreUnmapped() {
    Bus bus = new PioBus();
    bus.register(0x3f8, 8, recorder("serial"), "serial");
    byte[] data = {1, 2, 3, 4};
    assertThat(bus.read(0x2f8, data)).isFalse();
    assertThat(data).containsOnly((byte) 0xff);
    byte[] straddle = {0, 0};
    assertThat(bus.read(0x3ff, straddle)).isFalse();
    assertThat(straddle).containsOnly((byte) 0xff);
    assertThat(bus.read(-1L, new byte[8])).isFalse();
    assertThat(bus.write(0x2f8, new byte[1])).isFalse();
    assertThat(accesses).isEmpty();
  }

  @Test
  void overlappingRangesAreRefused() {
    Bus bus = new MmioBus();
    bus.register(0x1000, 0x1000, recorder("a"), "a");
    assertThatThrownBy(() -> bus.register(0x1800, 0x1000, recorder("b"), "b"))
        .isInstanceOf(BusException.class)
        .hasMessageContaining("overlaps a");
    assertThatThrownBy(() -> bus.register(0x0, 0x2000, recorder("c"), "c"))
        .isInstanceOf(BusException.class);
    bus.register(0x2000, 0x1000, recorder("d"), "d");
    assertThat(bus.unregister(0x1000)).isTrue();
    bus.register(0x1800, 0x800, recorder("e"), "e");
  }
}
