package dev.hearth.agent.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tenant names files under the images root and nothing else: not by a path (the spec's checks),
 * not through a symbolic link inside the root, and the answer for a file outside is the answer for
 * a missing one, so it does not reveal what exists on the node.
 */
class NodeImagesTest {
  @TempDir Path dir;
  private Path root;
  private Path secret;
  private NodeImages images;

  @BeforeEach
  void setUp() throws Exception {
    root = Files.createDirectories(dir.resolve("images"));
    Files.createDirectories(root.resolve("linux"));
    Files.writeString(root.resolve("linux/vmlinux"), "kernel");
    secret = Files.writeString(dir.resolve("secret"), "token");
    images = new NodeImages(root);
  }

  private Path resolve(String path) throws ImageException {
    return images.resolve(new ImageRef.NodeFile(path, Optional.empty()));
  }

  @Test
  void aFileUnderTheRootResolvesToItsRealPath() throws Exception {
    assertThat(resolve("linux/vmlinux")).isEqualTo(root.resolve("linux/vmlinux").toRealPath());
    // A link that stays inside the root is followed.
    Files.createSymbolicLink(root.resolve("current"), root.resolve("linux/vmlinux"));
    assertThat(resolve("current")).isEqualTo(root.resolve("linux/vmlinux").toRealPath());
  }

  @Test
  void aLinkOutOfTheRootIsRefusedLikeAMissingFile() throws Exception {
    Files.createSymbolicLink(root.resolve("passwd"), secret);
    Files.createSymbolicLink(root.resolve("gone"), dir.resolve("does-not-exist"));
    Files.createSymbolicLink(root.resolve("up"), dir);
    String outside = messageFor("passwd");
    String missing = messageFor("gone");
    assertThat(outside)
        .isEqualTo(
            "node image "
                + root.resolve("passwd")
                + " does not exist or is not a regular file inside the images root "
                + root);
    assertThat(missing.replace("gone", "passwd")).isEqualTo(outside);
    assertThat(messageFor("up/secret")).doesNotContain("token").contains("does not exist");
  }

  @Test
  void directoriesAndTheRootItselfAreNotImages() {
    assertThat(messageFor("linux")).contains("is not a regular file");
  }

  @Test
  void pathsThatCouldLeaveTheRootAreRefusedBeforeAnyLookUp() {
    for (String bad :
        new String[] {"/etc/passwd", "../secret", "linux/../../secret", "a//b", "a/", ".", "x\n"}) {
      assertThatThrownBy(() -> new ImageRef.NodeFile(bad, Optional.empty()))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> new ImageRef.NodeFile("a".repeat(1025), Optional.empty()))
        .hasMessageContaining("1 to 1024 characters");
  }

  private String messageFor(String path) {
    return assertThatThrownBy(() -> resolve(path))
        .isInstanceOf(ImageException.NotFound.class)
        .actual()
        .getMessage();
  }
}
