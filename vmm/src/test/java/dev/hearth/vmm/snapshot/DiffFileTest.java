package dev.hearth.vmm.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiffFileTest {
  private static final long MEMORY = 64 * 4096;
  private static final DiffFile.Parent PARENT = new DiffFile.Parent("../base", new byte[32]);

  @TempDir Path dir;

  private Path write(long... pages) {
    Path file = dir.resolve("diff");
    DiffFile.write(
        file,
        PARENT,
        MEMORY,
        pages,
        (index, into) -> {
          while (into.hasRemaining()) {
            into.put((byte) index);
          }
        });
    return file;
  }

  @Test
  void pagesComeBackInOrderWithTheirContentAndTheParent() {
    Path file = write(1, 7, 63);
    assertThat(DiffFile.parent(file, MEMORY).path()).isEqualTo("../base");
    List<Long> seen = new ArrayList<>();
    DiffFile.read(
        file,
        MEMORY,
        (index, data) -> {
          seen.add(index);
          assertThat(data.remaining()).isEqualTo(4096);
          byte[] b = new byte[4096];
          data.get(b);
          byte[] want = new byte[4096];
          Arrays.fill(want, (byte) index);
          assertThat(b).isEqualTo(want);
        });
    assertThat(seen).containsExactly(1L, 7L, 63L);
  }

  @Test
  void aDiffOfAnotherSizeCorruptedCutShortOrOutOfOrderIsRefused() throws Exception {
    Path file = write(2, 3);
    assertThatThrownBy(() -> DiffFile.read(file, MEMORY * 2, (i, d) -> {}))
        .isInstanceOf(SnapshotException.class)
        .hasMessageContaining("the VM has " + MEMORY * 2);
    byte[] good = Files.readAllBytes(file);
    byte[] bad = good.clone();
    bad[good.length - 40] ^= 1;
    Files.write(file, bad);
    assertThatThrownBy(() -> DiffFile.read(file, MEMORY, (i, d) -> {}))
        .isInstanceOf(SnapshotException.class)
        .hasMessageContaining("is corrupted");
    Files.write(file, Arrays.copyOf(good, good.length - 1));
    assertThatThrownBy(() -> DiffFile.read(file, MEMORY, (i, d) -> {}))
        .isInstanceOf(SnapshotException.class)
        .hasMessageContaining("truncated or padded");
    Path unordered = write(5, 5);
    assertThatThrownBy(() -> DiffFile.read(unordered, MEMORY, (i, d) -> {}))
        .isInstanceOf(SnapshotException.class)
        .hasMessageContaining("page index 5 at 1");
    Path past = write(64);
    assertThatThrownBy(() -> DiffFile.read(past, MEMORY, (i, d) -> {}))
        .isInstanceOf(SnapshotException.class)
        .hasMessageContaining("page index 64");
    Files.write(
        file,
        "HRTHSNAP and more bytes than a header needs to be read at all ......"
            .repeat(2)
            .getBytes());
    assertThatThrownBy(() -> DiffFile.read(file, MEMORY, (i, d) -> {}))
        .isInstanceOf(SnapshotException.class)
        .hasMessageContaining("not a Hearth diff snapshot");
  }

  @Test
  void nothingIsHandedOutBeforeTheWholeFileIsVerified() throws Exception {
    Path file = write(1, 2, 3);
    byte[] bad = Files.readAllBytes(file);
    bad[bad.length - 40] ^= 1; // in the last page
    Files.write(file, bad);
    List<Long> seen = new ArrayList<>();
    assertThatThrownBy(() -> DiffFile.read(file, MEMORY, (i, d) -> seen.add(i)))
        .isInstanceOf(SnapshotException.class);
    assertThat(seen).isEmpty();
  }
}
