package dev.hearth.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRule;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The admission corpus ({@code src/test/resources/admission/}) through {@link CrdValidator}, the
 * validator {@code hearth run} uses, without a server: every manifest under {@code invalid/} is
 * refused with the words its first line names ({@code # expect: <part of the server's message>}),
 * the very words AdmissionCorpusOnApiServerTest requires of a real kube-apiserver, and every one
 * under {@code valid/} is accepted. What one accepts, the other accepts, for the same reason.
 *
 * <p>A manifest with a {@code status} is a status write, checked as the server checks a write to
 * the status subresource. Every CEL rule of the three CRDs (transition rules aside: the corpus
 * holds new objects only) must have a refused manifest of its own.
 *
 * <p>No file of the corpus is a known gap: each is refused or accepted here as on the server, in
 * its words. What the validator does not model, and no file needs: updates (transition rules and
 * ratcheting), the CEL cost budget (checked when the CRD is installed, by
 * AdmissionCorpusOnApiServerTest and ExamplesOnApiServerTest), Kubernetes CEL functions that
 * KubernetesCelLibrary lacks (a rule using one fails to compile here, loudly), and a server-side
 * apply's YAML decoding, which refuses a raw DEL before any rule (vm-path-delete-character.yaml
 * expects words both refusals hold).
 */
class AdmissionCorpusLocalTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Path CORPUS = Path.of("src/test/resources/admission");

  @TestFactory
  Stream<DynamicTest> invalidManifestsAreRefusedWithTheServersWords() throws IOException {
    return files("invalid").stream()
        .map(
            f ->
                DynamicTest.dynamicTest(
                    f.getFileName().toString(),
                    () -> {
                      String expect = expectation(f);
                      List<String> errors = validate(f);
                      assertThat(errors).as("%s was accepted", f.getFileName()).isNotEmpty();
                      assertThat(errors)
                          .as("%s expects: %s", f.getFileName(), expect)
                          .anySatisfy(e -> assertThat(e).contains(expect));
                    }));
  }

  @TestFactory
  Stream<DynamicTest> validManifestsAreAccepted() throws IOException {
    return files("valid").stream()
        .map(
            f ->
                DynamicTest.dynamicTest(
                    f.getFileName().toString(),
                    () -> assertThat(validate(f)).as(f.getFileName().toString()).isEmpty()));
  }

  @Test
  void everyRuleHasARefusedManifest() throws IOException {
    List<String> expectations = new ArrayList<>();
    for (Path file : files("invalid")) {
      expectations.add(expectation(file));
    }
    List<String> messages = new ArrayList<>();
    for (String plural : List.of("microvms", "microvmsets", "microvmnodes")) {
      JSONSchemaProps root =
          crd(plural).getSpec().getVersions().getFirst().getSchema().getOpenAPIV3Schema();
      collectMessages(root, messages);
    }
    assertThat(messages).as("CEL rules of the CRDs").hasSizeGreaterThan(80);
    List<String> uncovered =
        messages.stream().filter(m -> expectations.stream().noneMatch(m::contains)).toList();
    assertThat(uncovered).as("CEL rule messages no invalid/ manifest expects").isEmpty();
  }

  /** The message of every CEL rule below {@code s}, transition rules left out. */
  private static void collectMessages(JSONSchemaProps s, List<String> out) {
    if (s.getXKubernetesValidations() != null) {
      for (ValidationRule r : s.getXKubernetesValidations()) {
        if (!r.getRule().contains("oldSelf")) {
          out.add(r.getMessage());
        }
      }
    }
    if (s.getProperties() != null) {
      s.getProperties().values().forEach(c -> collectMessages(c, out));
    }
    if (s.getItems() != null && s.getItems().getSchema() != null) {
      collectMessages(s.getItems().getSchema(), out);
    }
    if (s.getAdditionalProperties() != null && s.getAdditionalProperties().getSchema() != null) {
      collectMessages(s.getAdditionalProperties().getSchema(), out);
    }
  }

  private static List<String> validate(Path f) throws IOException {
    JsonNode doc = YAML.readTree(f.toFile());
    CrdValidator validator = CrdValidator.forKind(doc.path("kind").asText());
    return doc.has("status") ? validator.validateStatusWrite(doc) : validator.validate(doc);
  }

  private static CustomResourceDefinition crd(String plural) {
    String resource = "META-INF/fabric8/" + plural + ".hearth.dev-v1.yml";
    try (InputStream in = CrdValidator.class.getClassLoader().getResourceAsStream(resource)) {
      assertThat(in).as(resource).isNotNull();
      return Serialization.unmarshal(in, CustomResourceDefinition.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String expectation(Path f) throws IOException {
    String first = Files.readAllLines(f).getFirst();
    assertThat(first).as(f + " first line").startsWith("# expect: ");
    return first.substring("# expect: ".length()).strip();
  }

  private static List<Path> files(String dir) throws IOException {
    try (Stream<Path> s = Files.list(CORPUS.resolve(dir))) {
      List<Path> files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
      assertThat(files).as(dir + " corpus").isNotEmpty();
      return files;
    }
  }
}
