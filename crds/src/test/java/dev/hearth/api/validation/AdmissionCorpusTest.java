package dev.hearth.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every manifest of the admission corpus ({@code src/test/resources/admission/{invalid,valid}}),
 * through the validator {@code hearth run} uses: an invalid one is refused with a message that
 * contains its first line's {@code # expect: <substring>}, a valid one is accepted. The same corpus
 * runs against a real API server in the e2e suite, so what one accepts, the other accepts.
 */
class AdmissionCorpusTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Path CORPUS = Path.of("src/test/resources/admission");

  @TestFactory
  Stream<DynamicTest> invalidManifestsAreRefusedWithTheExpectedReason() throws IOException {
    return files("invalid")
        .map(
            f ->
                DynamicTest.dynamicTest(
                    f.getFileName().toString(),
                    () -> {
                      String expect = expectation(f);
                      List<String> errors = validate(f);
                      assertThat(errors).as(f.toString()).isNotEmpty();
                      if (!expect.isEmpty()) {
                        assertThat(errors)
                            .as(f + " expects: " + expect)
                            .anySatisfy(e -> assertThat(e).contains(expect));
                      }
                    }));
  }

  @TestFactory
  Stream<DynamicTest> validManifestsAreAccepted() throws IOException {
    return files("valid")
        .map(
            f ->
                DynamicTest.dynamicTest(
                    f.getFileName().toString(),
                    () -> assertThat(validate(f)).as(f.toString()).isEmpty()));
  }

  /** The folder's manifests; none while the corpus is still being written. */
  private static Stream<Path> files(String kind) throws IOException {
    Path dir = CORPUS.resolve(kind);
    if (!Files.isDirectory(dir)) {
      return Stream.empty();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList().stream();
    }
  }

  private static String expectation(Path f) throws IOException {
    String first = Files.readAllLines(f).stream().findFirst().orElse("");
    return first.startsWith("# expect:") ? first.substring("# expect:".length()).strip() : "";
  }

  private static List<String> validate(Path f) throws IOException {
    JsonNode doc = YAML.readTree(f.toFile());
    return CrdValidator.forKind(doc.path("kind").asText()).validate(doc);
  }
}
