package dev.hearth.vmm.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TestGuestTest {
  @TempDir Path dir;

  private Path pathsFile(String... skip) throws IOException {
    StringBuilder text = new StringBuilder("HEARTH_GUEST_DIR=" + dir + "\n");
    String[][] entries = {
      {"HEARTH_GUEST_VMLINUX", "vmlinux"},
      {"HEARTH_GUEST_BZIMAGE", "bzImage"},
      {"HEARTH_GUEST_INITRAMFS", "initramfs.cpio.gz"},
      {"HEARTH_GUEST_ROOTFS", "rootfs.ext4"}
    };
    for (String[] e : entries) {
      Files.writeString(dir.resolve(e[1]), "x");
      if (!java.util.List.of(skip).contains(e[0])) {
        text.append(e[0]).append('=').append(dir.resolve(e[1])).append('\n');
      }
    }
    text.append("HEARTH_GUEST_MARKER=HEARTH-GUEST-READY\n");
    return Files.writeString(dir.resolve("paths.env"), text);
  }

  @Test
  void readsTheGuestsPaths() throws IOException {
    TestGuest guest = TestGuest.fromPathsFile(pathsFile());

    assertThat(guest.vmlinux()).isEqualTo(dir.resolve("vmlinux"));
    assertThat(guest.bzImage()).isEqualTo(dir.resolve("bzImage"));
    assertThat(guest.rootfs()).isEqualTo(dir.resolve("rootfs.ext4"));
    assertThat(guest.marker()).isEqualTo("HEARTH-GUEST-READY");
  }

  @Test
  void namesWhatIsMissing() throws IOException {
    Path file = pathsFile("HEARTH_GUEST_BZIMAGE");
    assertThatThrownBy(() -> TestGuest.fromPathsFile(file))
        .hasMessageContaining("HEARTH_GUEST_BZIMAGE");

    Path again = pathsFile();
    Files.delete(dir.resolve("rootfs.ext4"));
    assertThatThrownBy(() -> TestGuest.fromPathsFile(again)).hasMessageContaining("rootfs.ext4");
  }
}
