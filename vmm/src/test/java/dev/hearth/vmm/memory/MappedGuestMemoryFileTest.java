package dev.hearth.vmm.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Guest memory written to a file and mapped back from it copy-on-write, as snapshots use it. */
class MappedGuestMemoryFileTest {
  private static final List<MappedGuestMemory.Range> RANGES =
      List.of(
          new MappedGuestMemory.Range(GuestAddress.of(0), 64 * 1024),
          new MappedGuestMemory.Range(GuestAddress.of(1 << 20), 1 << 20));

  @TempDir Path dir;

  private static byte[] read(GuestMemory m, long at, int len) {
    byte[] b = new byte[len];
    m.read(GuestAddress.of(at), b, 0, len);
    return b;
  }

  @Test
  void whatTheGuestWroteComesBackAndTheCopysWritesStayOutOfTheFile() throws Exception {
    Path file = dir.resolve("memory");
    try (MappedGuestMemory m = MappedGuestMemory.map(RANGES)) {
      m.memory().write(GuestAddress.of(0x100), new byte[] {1, 2, 3}, 0, 3);
      // The last page of the last region: the file must still reach its full size.
      m.memory().write(GuestAddress.of((2 << 20) - 2), new byte[] {7, 8}, 0, 2);
      m.writeTo(file);
    }
    assertThat(Files.size(file)).isEqualTo(64 * 1024 + (1 << 20));
    try (MappedGuestMemory copy = MappedGuestMemory.mapFile(RANGES, file)) {
      assertThat(read(copy.memory(), 0x100, 3)).containsExactly(1, 2, 3);
      assertThat(read(copy.memory(), (2 << 20) - 2, 2)).containsExactly(7, 8);
      assertThat(read(copy.memory(), 0x5000, 4)).containsExactly(0, 0, 0, 0);
      copy.memory().write(GuestAddress.of(0x100), new byte[] {9}, 0, 1);
      assertThat(read(copy.memory(), 0x100, 1)).containsExactly(9);
      // The copy writes itself out whole: its untouched pages hold the file's data.
      copy.writeTo(dir.resolve("again"));
    }
    assertThat(Files.readAllBytes(file)[0x100]).isEqualTo((byte) 1);
    try (MappedGuestMemory again = MappedGuestMemory.mapFile(RANGES, dir.resolve("again"))) {
      assertThat(read(again.memory(), 0x100, 3)).containsExactly(9, 2, 3);
      assertThat(read(again.memory(), (2 << 20) - 2, 2)).containsExactly(7, 8);
    }
  }

  @Test
  void aFileOfAnotherSizeIsRefused() throws Exception {
    Path file = Files.write(dir.resolve("short"), new byte[4096]);
    assertThatThrownBy(() -> MappedGuestMemory.mapFile(RANGES, file))
        .isInstanceOf(GuestMemoryException.class)
        .hasMessageContaining("has 4096 bytes; the VM has " + (64 * 1024 + (1 << 20)));
  }
}
