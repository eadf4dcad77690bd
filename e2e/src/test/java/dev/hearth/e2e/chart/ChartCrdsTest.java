package dev.hearth.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chart ships the generated CRDs (crds/yaml/) byte for byte, copied by helm/sync-crds.sh and
 * never edited by hand.
 */
class ChartCrdsTest {
  private static final Path GENERATED = Helm.ROOT.resolve("crds/yaml");
  private static final Path SHIPPED = Helm.CHART.resolve("crds");
  private static final String FIX = "run helm/sync-crds.sh after regenerating crds/yaml/";

  @Test
  void chartShipsExactlyTheGeneratedCrds() throws IOException {
    assertThat(names(SHIPPED)).as("chart CRDs vs crds/yaml/; " + FIX).isEqualTo(names(GENERATED));
    for (String name : names(GENERATED)) {
      assertThat(Files.mismatch(GENERATED.resolve(name), SHIPPED.resolve(name)))
          .as("helm/hearth/crds/%s differs from crds/yaml/%s; %s", name, name, FIX)
          .isEqualTo(-1L);
    }
  }

  @Test
  void helmInstallsTheHearthCrds() {
    // Skipped, and says so, only until the CRD generator has committed crds/yaml/ (issue 5).
    assumeTrue(
        !names(GENERATED).isEmpty(),
        "crds/yaml/ holds no generated CRDs yet, so the chart ships none");
    List<HasMetadata> crds =
        Helm.parse(Helm.helm("show", "crds", Helm.CHART.toString()).assertSucceeded().stdout());
    assertThat(crds)
        .allSatisfy(c -> assertThat(c).isInstanceOf(CustomResourceDefinition.class))
        .extracting(c -> c.getMetadata().getName())
        .contains("microvms.hearth.dev", "microvmsets.hearth.dev", "microvmnodes.hearth.dev");
  }

  @Test
  void syncScriptCopiesNewAndChangedCrdsAndRemovesStaleOnes(@TempDir Path tmp) throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Path dst = Files.createDirectories(tmp.resolve("dst"));
    Files.writeString(src.resolve("a.hearth.dev-v1.yml"), "kind: A\n");
    Files.writeString(src.resolve("b.hearth.dev-v1.yml"), "kind: B\n");
    Files.writeString(dst.resolve("b.hearth.dev-v1.yml"), "kind: stale\n");
    Files.writeString(dst.resolve("gone.hearth.dev-v1.yml"), "kind: Gone\n");
    Files.writeString(dst.resolve(".gitkeep"), "");

    Process p =
        new ProcessBuilder(
                "sh",
                Helm.ROOT.resolve("helm/sync-crds.sh").toString(),
                src.toString(),
                dst.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(out).isZero();

    assertThat(names(dst)).containsExactly("a.hearth.dev-v1.yml", "b.hearth.dev-v1.yml");
    assertThat(dst.resolve("b.hearth.dev-v1.yml")).hasContent("kind: B");
    assertThat(dst.resolve(".gitkeep")).exists();
  }

  /** The CRD files (*.yml, *.yaml) in a directory; none when it does not exist. */
  private static Set<String> names(Path dir) {
    if (!Files.isDirectory(dir)) {
      return Set.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .map(f -> f.getFileName().toString())
          .filter(n -> n.endsWith(".yml") || n.endsWith(".yaml"))
          .collect(Collectors.toCollection(TreeSet::new));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
