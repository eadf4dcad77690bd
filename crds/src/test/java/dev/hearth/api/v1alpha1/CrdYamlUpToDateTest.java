package dev.hearth.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The CRDs committed under crds/yaml/ must equal what the generator writes from the model. */
class CrdYamlUpToDateTest {

  @Test
  void committedCrdsMatchGeneratedOnes() throws IOException {
    List<Path> generated = ymls(GeneratedCrds.generatedDir());
    assertThat(generated)
        .as("the generator wrote the three CRDs")
        .extracting(p -> p.getFileName().toString())
        .containsExactlyInAnyOrder(
            "microvms.hearth.dev-v1.yml",
            "microvmsets.hearth.dev-v1.yml",
            "microvmnodes.hearth.dev-v1.yml");
    for (Path g : generated) {
      Path committed = GeneratedCrds.committedDir().resolve(g.getFileName());
      assertThat(Files.exists(committed))
          .as("crds/yaml/%s is missing. %s", g.getFileName(), GeneratedCrds.REFRESH_HINT)
          .isTrue();
      assertThat(Files.readString(committed))
          .as("crds/yaml/%s is stale. %s", g.getFileName(), GeneratedCrds.REFRESH_HINT)
          .isEqualTo(Files.readString(g));
    }
    assertThat(ymls(GeneratedCrds.committedDir()))
        .as("crds/yaml/ holds a CRD the model no longer generates. %s", GeneratedCrds.REFRESH_HINT)
        .extracting(p -> p.getFileName().toString())
        .containsExactlyInAnyOrderElementsOf(
            generated.stream().map(p -> p.getFileName().toString()).toList());
  }

  private static List<Path> ymls(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".yml")).sorted().toList();
    }
  }
}
