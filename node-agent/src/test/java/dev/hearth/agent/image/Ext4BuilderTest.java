package dev.hearth.agent.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Ext4BuilderTest {
  @TempDir Path tmp;

  /**
   * Each file with extended attributes too large for its inode needs a block of its own: the image
   * is sized for them, with no headroom to hide a short estimate.
   */
  @Test
  void sizesTheImageForExtendedAttributeBlocks() throws Exception {
    Path staging = Files.createDirectory(tmp.resolve("root"));
    Map<String, LayerUnpacker.Meta> metadata = new TreeMap<>();
    Map<String, byte[]> big =
        Map.of("user.big", new byte[LayerUnpacker.MAX_XATTR_BYTES_PER_ENTRY - 8]);
    int files = 4000;
    for (int i = 0; i < files; i++) {
      Files.writeString(staging.resolve("f" + i), "x");
      metadata.put("f" + i, new LayerUnpacker.Meta(0100644, 0, 0, big));
    }
    Path image = tmp.resolve("image.ext4");
    Ext4Builder.build(staging, metadata, files, files, 0, image);
    assertThat(OciPullTest.debugfs(image, "ea_list /f3999")).contains("user.big (3064)");
  }
}
