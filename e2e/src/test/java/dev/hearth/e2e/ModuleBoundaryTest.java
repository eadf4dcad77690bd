package dev.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Enforces DESIGN.md's module boundaries on the sources themselves: the VMM knows nothing of
 * Kubernetes, and the operator never touches the VMM. The poms ban the dependencies too; this
 * catches a fully qualified name or an import that arrives through some other path.
 */
class ModuleBoundaryTest {

  private static final Path ROOT = ProjectRoot.find();

  @Test
  void vmmKnowsNothingOfKubernetes() {
    assertThat(violations("vmm", Pattern.compile("\\bio\\.(fabric8|javaoperatorsdk)\\.[\\w.]+")))
        .as("vmm must not reference fabric8 or JOSDK")
        .isEmpty();
  }

  @Test
  void vmmKnowsNothingOfTheApiModel() {
    assertThat(violations("vmm", Pattern.compile("\\bdev\\.hearth\\.(api|operator|agent)\\b")))
        .as("vmm must not reference the API model, the operator or the agent")
        .isEmpty();
  }

  @Test
  void operatorNeverTouchesTheVmm() {
    assertThat(violations("operator", Pattern.compile("\\bdev\\.hearth\\.(vmm|agent)\\b")))
        .as("operator must not reference the VMM or the agent")
        .isEmpty();
  }

  @Test
  void theCheckFindsAViolation() throws IOException {
    Path fake = Files.createTempFile("Boundary", ".java");
    try {
      Files.writeString(fake, "package x;\nimport io.fabric8.kubernetes.api.model.Pod;\n");
      assertThat(violationsIn(fake, Pattern.compile("\\bio\\.(fabric8|javaoperatorsdk)\\.[\\w.]+")))
          .containsExactly(fake + ":2: io.fabric8.kubernetes.api.model.Pod");
    } finally {
      Files.delete(fake);
    }
  }

  private static List<String> violations(String module, Pattern forbidden) {
    assertThat(ROOT.resolve(module).resolve("pom.xml")).as("module %s", module).isRegularFile();
    Path src = ROOT.resolve(module).resolve("src");
    if (!Files.isDirectory(src)) {
      return List.of();
    }
    try (Stream<Path> files = Files.walk(src)) {
      return files
          .filter(p -> p.toString().endsWith(".java"))
          .flatMap(p -> violationsIn(p, forbidden).stream())
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> violationsIn(Path file, Pattern forbidden) {
    try {
      List<String> lines = Files.readAllLines(file);
      return Stream.iterate(0, i -> i < lines.size(), i -> i + 1)
          .flatMap(
              i -> {
                Matcher m = forbidden.matcher(lines.get(i));
                return m.results().map(r -> file + ":" + (i + 1) + ": " + r.group());
              })
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
