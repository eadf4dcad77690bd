package dev.hearth.vmm.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotFileTest {
  record Inner(int a, boolean b, byte[] raw) {}

  record Outer(
      String name,
      long n,
      long[] words,
      List<Inner> inners,
      Optional<Inner> maybe,
      Optional<Long> none) {}

  private static final Outer STATE =
      new Outer(
          "vm-ü",
          -5,
          new long[] {1, Long.MAX_VALUE},
          List.of(new Inner(7, true, new byte[] {1, 2, 3}), new Inner(-1, false, new byte[0])),
          Optional.of(new Inner(2, true, new byte[] {9})),
          Optional.empty());

  @TempDir Path dir;

  @Test
  void aStateTreeComesBackAsItWent() {
    Path file = dir.resolve("state");
    SnapshotFile.write(file, STATE);
    Outer back = SnapshotFile.read(file, Outer.class);
    assertThat(back.name()).isEqualTo("vm-ü");
    assertThat(back.n()).isEqualTo(-5);
    assertThat(back.words()).containsExactly(1, Long.MAX_VALUE);
    assertThat(back.inners()).hasSize(2);
    assertThat(back.inners().getFirst().raw()).containsExactly(1, 2, 3);
    assertThat(back.maybe()).hasValueSatisfying(i -> assertThat(i.raw()).containsExactly(9));
    assertThat(back.none()).isEmpty();
  }

  @Test
  void everyDamagedFileIsRefusedWithWhatIsWrong() throws Exception {
    Path file = dir.resolve("state");
    SnapshotFile.write(file, STATE);
    byte[] good = Files.readAllBytes(file);
    for (int i = SnapshotFile.HEADER; i < good.length; i++) {
      byte[] bad = good.clone();
      bad[i] ^= (byte) 0x80;
      Files.write(file, bad);
      assertThatThrownBy(() -> SnapshotFile.read(file, Outer.class))
          .as("byte %d flipped", i)
          .isInstanceOf(SnapshotException.class)
          .hasMessageContaining("corrupted");
    }
    for (int len = 0; len < good.length; len++) {
      Files.write(file, Arrays.copyOf(good, len));
      assertThatThrownBy(() -> SnapshotFile.read(file, Outer.class))
          .as("cut to %d bytes", len)
          .isInstanceOf(SnapshotException.class)
          .hasMessageMatching("(?s).*(truncated|not a Hearth snapshot).*");
    }
    byte[] other = good.clone();
    ByteBuffer.wrap(other).putInt(8, SnapshotFile.FORMAT_VERSION + 1);
    Files.write(file, other);
    assertThatThrownBy(() -> SnapshotFile.read(file, Outer.class))
        .isInstanceOf(SnapshotException.class)
        .hasMessageContaining("has format version " + (SnapshotFile.FORMAT_VERSION + 1));
  }

  @Test
  void bytesThatAreNotTheAskedRecordAreRefused() {
    byte[] bytes = StateCodec.encode(new Inner(1, true, new byte[] {1}));
    assertThatThrownBy(() -> StateCodec.decode(bytes, Outer.class))
        .isInstanceOf(SnapshotException.class);
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);
    assertThatThrownBy(() -> StateCodec.decode(longer, Inner.class))
        .isInstanceOf(SnapshotException.class)
        .hasMessageContaining("1 bytes left");
    byte[] badBool = bytes.clone();
    badBool[4] = 2;
    assertThatThrownBy(() -> StateCodec.decode(badBool, Inner.class))
        .isInstanceOf(SnapshotException.class)
        .hasMessageContaining("boolean");
  }
}
