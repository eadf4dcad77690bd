package dev.hearth.api.v1alpha1;

import static dev.hearth.api.v1alpha1.GeneratedCrds.load;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.hearth.api.validation.CelRules;
import dev.hearth.api.validation.CelRules.Violation;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The admission corpus through the CRDs' CEL rules alone, without a server (fast, and so every CEL
 * rule is exercised on each build): a refused manifest whose expected words are a rule's message is
 * refused by that rule, an accepted one by none; and every rule, transition rules aside, has a
 * refused manifest of its own. AdmissionCorpusTest runs the same files on a real API server, where
 * the schema's bounds, types and unknown fields are checked too.
 */
class AdmissionCorpusCelTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Path CORPUS = Path.of("src/test/resources/admission");
  private static final Map<String, CustomResourceDefinition> CRDS =
      Map.of(
          "MicroVM", load("microvms"),
          "MicroVMSet", load("microvmsets"),
          "MicroVMNode", load("microvmnodes"));
  private static final Map<String, CelRules> RULES =
      Map.of(
          "MicroVM", new CelRules(CRDS.get("MicroVM")),
          "MicroVMSet", new CelRules(CRDS.get("MicroVMSet")),
          "MicroVMNode", new CelRules(CRDS.get("MicroVMNode")));

  @Test
  void refusedManifestsBreakTheRuleTheirExpectationNames() throws IOException {
    List<String> messages = ruleMessages(false);
    int checked = 0;
    List<String> wrong = new ArrayList<>();
    for (Path file : files("invalid")) {
      String expect = expectation(file);
      if (messages.stream().noneMatch(m -> m.contains(expect))) {
        continue; // a schema bound, type or unknown field: the server's own check
      }
      Map<String, Object> doc = read(file);
      List<Violation> v = RULES.get(String.valueOf(doc.get("kind"))).validate(doc);
      if (v.stream().noneMatch(x -> x.message().contains(expect))) {
        wrong.add(file.getFileName() + ": " + v);
      }
      checked++;
    }
    assertThat(wrong).as("refused manifests their rule does not refuse").isEmpty();
    assertThat(checked).as("refused manifests a CEL rule refuses").isGreaterThan(80);
  }

  @Test
  void acceptedManifestsBreakNoRule() throws IOException {
    for (Path file : files("valid")) {
      Map<String, Object> doc = read(file);
      assertThat(RULES.get(String.valueOf(doc.get("kind"))).validate(doc))
          .as(file.getFileName().toString())
          .isEmpty();
    }
  }

  @Test
  void everyRuleHasARefusedManifest() throws IOException {
    List<String> expectations = new ArrayList<>();
    for (Path file : files("invalid")) {
      expectations.add(expectation(file));
    }
    List<String> uncovered =
        ruleMessages(true).stream()
            .filter(m -> expectations.stream().noneMatch(m::contains))
            .distinct()
            .toList();
    assertThat(uncovered).as("CEL rule messages no invalid/ manifest expects").isEmpty();
  }

  /** The message of every CEL rule of the three CRDs, transition rules only when asked. */
  private static List<String> ruleMessages(boolean withoutTransitions) {
    List<String> out = new ArrayList<>();
    CRDS.values().forEach(crd -> collect(GeneratedCrds.root(crd), withoutTransitions, out));
    return out;
  }

  private static void collect(JSONSchemaProps s, boolean withoutTransitions, List<String> out) {
    if (s.getXKubernetesValidations() != null) {
      for (ValidationRule r : s.getXKubernetesValidations()) {
        if (!(withoutTransitions && r.getRule().contains("oldSelf"))) {
          out.add(r.getMessage());
        }
      }
    }
    if (s.getProperties() != null) {
      s.getProperties().values().forEach(c -> collect(c, withoutTransitions, out));
    }
    if (s.getItems() != null && s.getItems().getSchema() != null) {
      collect(s.getItems().getSchema(), withoutTransitions, out);
    }
    if (s.getAdditionalProperties() != null && s.getAdditionalProperties().getSchema() != null) {
      collect(s.getAdditionalProperties().getSchema(), withoutTransitions, out);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> read(Path file) throws IOException {
    return YAML.readValue(file.toFile(), Map.class);
  }

  private static String expectation(Path file) throws IOException {
    String first = Files.readAllLines(file).getFirst();
    assertThat(first).as(file + " first line").startsWith("# expect: ");
    return first.substring("# expect: ".length()).strip();
  }

  private static List<Path> files(String dir) throws IOException {
    try (Stream<Path> s = Files.list(CORPUS.resolve(dir))) {
      return s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
  }
}
