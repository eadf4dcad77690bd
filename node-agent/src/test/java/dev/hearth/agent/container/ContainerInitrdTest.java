package dev.hearth.agent.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContainerInitrdTest {
  @TempDir Path dir;

  private static ContainerProcess process(List<String> argv, List<String> env) {
    return new ContainerProcess(argv, env, "/w d", "app:staff");
  }

  /** Reads the records back as the guest init does: tag, length, bytes. */
  private static List<String> records(byte[] config) {
    String s = new String(config, StandardCharsets.UTF_8);
    assertThat(s).startsWith("hearth-container 1\n");
    List<String> out = new ArrayList<>();
    byte[] b = config;
    int p = "hearth-container 1\n".length();
    while (p < b.length) {
      char tag = (char) b[p];
      int nl = p + 2;
      while (b[nl] != '\n') {
        nl++;
      }
      int len = Integer.parseInt(new String(b, p + 2, nl - p - 2, StandardCharsets.US_ASCII));
      out.add(tag + "=" + new String(b, nl + 1, len, StandardCharsets.UTF_8));
      assertThat(b[nl + 1 + len]).isEqualTo((byte) '\n');
      p = nl + 2 + len;
    }
    return out;
  }

  @Test
  void hostileValuesTravelVerbatimByLength() throws Exception {
    String evil = "a b\n'\"$(reboot)\\ \u00e9\na 3\nX";
    byte[] config =
        ContainerInitrd.encode(
            process(List.of("/bin/sh", "-c", evil), List.of("K=" + evil)), 0x4f0);
    assertThat(records(config))
        .containsExactly(
            "a=/bin/sh", "a=-c", "a=" + evil, "e=K=" + evil, "w=/w d", "u=app:staff", "p=1264");
  }

  @Test
  void nulAndOversizedConfigsAreRefused() {
    assertThatThrownBy(() -> ContainerInitrd.encode(process(List.of("a\0b"), List.of()), 1))
        .isInstanceOf(ContainerException.class)
        .hasMessageContaining("NUL");
    String big = "x".repeat(600_000);
    assertThatThrownBy(
            () ->
                ContainerInitrd.encode(process(List.of("/p"), List.of("A=" + big, "B=" + big)), 1))
        .hasMessageContaining("at most " + ContainerInitrd.MAX_CONFIG_BYTES);
    List<String> many = new ArrayList<>();
    for (int i = 0; i <= ContainerInitrd.MAX_ENTRIES; i++) {
      many.add("x");
    }
    assertThatThrownBy(() -> ContainerInitrd.encode(process(many, List.of()), 1))
        .hasMessageContaining("at most 1024");
  }

  @Test
  void theArchiveIsNewcWithTheConfigAtItsPath() {
    byte[] config = "hearth-container 1\na 2\n/x\n".getBytes(StandardCharsets.US_ASCII);
    byte[] cpio = ContainerInitrd.archive(config);
    Map<String, byte[]> files = new LinkedHashMap<>();
    int p = 0;
    while (true) {
      String h = new String(cpio, p, 110, StandardCharsets.US_ASCII);
      assertThat(h).startsWith("070701");
      int size = Integer.parseInt(h.substring(54, 62), 16);
      int nameSize = Integer.parseInt(h.substring(94, 102), 16);
      String name = new String(cpio, p + 110, nameSize - 1, StandardCharsets.US_ASCII);
      int data = (p + 110 + nameSize + 3) & ~3;
      if (name.equals("TRAILER!!!")) {
        break;
      }
      files.put(name, Arrays.copyOfRange(cpio, data, data + size));
      p = (data + size + 3) & ~3;
    }
    assertThat(files).containsOnlyKeys("hearth", "hearth/container");
    assertThat(files.get("hearth/container")).isEqualTo(config);
    assertThat(cpio.length % 4).isZero();
  }

  @Test
  void theInitrdIsTheBaseAlignedThenTheArchive() throws Exception {
    Path base = dir.resolve("initramfs.cpio.gz");
    Files.write(base, new byte[] {1, 2, 3, 4, 5});
    Path target = dir.resolve("vm/container-initrd");
    ContainerProcess p = process(List.of("/p"), List.of());
    ContainerInitrd.write(base, p, 0x4f0, target);
    byte[] all = Files.readAllBytes(target);
    assertThat(Arrays.copyOfRange(all, 0, 8)).containsExactly(1, 2, 3, 4, 5, 0, 0, 0);
    assertThat(Arrays.copyOfRange(all, 8, all.length))
        .isEqualTo(ContainerInitrd.archive(ContainerInitrd.encode(p, 0x4f0)));
    assertThat(dir.resolve("vm")).isDirectoryNotContaining("glob:**.tmp");
  }
}
