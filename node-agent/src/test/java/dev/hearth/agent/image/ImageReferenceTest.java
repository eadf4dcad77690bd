package dev.hearth.agent.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class ImageReferenceTest {
  private static final String DIGEST = "sha256:" + "ab".repeat(32);

  @Test
  void referencesParseAsTheDistributionGrammarReadsThem() {
    assertThat(ImageReference.parse("busybox"))
        .isEqualTo(
            new ImageReference(
                "docker.io", "library/busybox", Optional.of("latest"), Optional.empty()));
    ImageReference local = ImageReference.parse("localhost:5000/team/app:1.2@" + DIGEST);
    assertThat(local.registry()).isEqualTo("localhost:5000");
    assertThat(local.repository()).isEqualTo("team/app");
    assertThat(local.manifestReference()).isEqualTo(DIGEST); // the digest wins over the tag
    ImageReference hub = ImageReference.parse("team/app@" + DIGEST);
    assertThat(hub.apiHost()).isEqualTo("registry-1.docker.io");
    assertThat(hub.tag()).isEmpty();
    assertThat(ImageReference.parse("127.0.0.1:5000/a/b").registry()).isEqualTo("127.0.0.1:5000");
  }

  @Test
  void malformedReferencesAreRefusedWithWhatIsWrong() {
    assertThatThrownBy(() -> ImageReference.parse("Team/App"))
        .hasMessageContaining("repository components are lowercase");
    assertThatThrownBy(() -> ImageReference.parse("reg.io/app@sha256:abc"))
        .hasMessageContaining("is not a sha256 digest");
    assertThatThrownBy(() -> ImageReference.parse("reg.io/app:bad tag"))
        .hasMessageContaining("is not a valid tag");
    assertThatThrownBy(() -> ImageReference.parse("reg.io/../x"))
        .hasMessageContaining("repository");
    assertThatThrownBy(() -> ImageReference.parse("")).hasMessageContaining("1 to 512");
  }
}
