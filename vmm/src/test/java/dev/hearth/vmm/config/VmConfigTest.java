package dev.hearth.vmm.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmConfigTest {
  @TempDir Path dir;

  private BootSource boot() throws Exception {
    return BootSource.of(Files.write(dir.resolve("k"), new byte[] {1}), "console=ttyS0");
  }

  @Test
  void aValidConfigKeepsItsValues() throws Exception {
    VmConfig c = VmConfig.of("vm-1", 2, 64, boot());
    assertThat(c.memoryBytes()).isEqualTo(64L << 20);
    assertThat(c.boot().cmdline()).isEqualTo("console=ttyS0");
  }

  @Test
  void outOfRangeValuesNameTheirField() throws Exception {
    BootSource b = boot();
    assertThatThrownBy(() -> VmConfig.of("vm", 0, 64, b))
        .isInstanceOfSatisfying(
            ConfigException.class, e -> assertThat(e.field()).isEqualTo("vcpus"))
        .hasMessage("vcpus: 0 is out of range 1..32");
    assertThatThrownBy(() -> VmConfig.of("vm", 33, 64, b)).hasMessageStartingWith("vcpus:");
    assertThatThrownBy(() -> VmConfig.of("vm", 1, 2, b))
        .hasMessage("memoryMiB: 2 MiB is below the minimum of 4 MiB");
    assertThatThrownBy(() -> VmConfig.of("a b", 1, 64, b)).hasMessageStartingWith("name:");
  }

  @Test
  void bootFilesMustBeReadableRegularFiles() throws Exception {
    assertThatThrownBy(() -> BootSource.of(dir.resolve("missing"), ""))
        .hasMessageContaining("boot.kernel: ")
        .hasMessageContaining("does not exist");
    assertThatThrownBy(() -> BootSource.of(dir, "")).hasMessageContaining("not a regular file");
    Path k = Files.write(dir.resolve("k2"), new byte[] {1});
    assertThatThrownBy(() -> new BootSource(k, Optional.of(dir.resolve("nope")), ""))
        .hasMessageStartingWith("boot.initrd:");
    assertThatThrownBy(() -> BootSource.of(k, "a\tb")).hasMessageStartingWith("boot.cmdline:");
  }
}
