package dev.hearth.e2e.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.hearth.agent.local.ManifestException;
import dev.hearth.agent.local.ManifestReader;
import dev.hearth.e2e.ProjectRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every manifest in examples/ passes the generated CRD schema, as an API server would check it
 * (through {@code hearth run}'s {@link ManifestReader}), and binds to the API model; a MicroVMSet's
 * template is checked as the MicroVM it stamps out. Whether they boot is for the e2e suite, which
 * applies every example.
 */
class ExamplesTest {
  private static final Path EXAMPLES = ProjectRoot.find().resolve("examples");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @TempDir Path tmp;

  @Test
  void everyExampleIsAValidMicroVmOrMicroVmSet() throws Exception {
    List<Path> files;
    try (Stream<Path> list = Files.list(EXAMPLES)) {
      files = list.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(files)
        .extracting(p -> p.getFileName().toString())
        .contains(
            "hello.yaml",
            "vm-with-disk-and-network.yaml",
            "rate-limited-vm.yaml",
            "microvmset.yaml");
    ManifestReader reader = new ManifestReader();
    for (Path file : files) {
      JsonNode doc = YAML.readTree(file.toFile());
      switch (doc.path("kind").asText()) {
        case "MicroVM" -> reader.read(file);
        case "MicroVMSet" -> reader.read(templateAsMicroVm(file, doc));
        default -> throw new AssertionError(file + ": not a MicroVM or a MicroVMSet");
      }
    }
  }

  @Test
  void theSetsTemplateCarriesTheLabelsItsSelectorCounts() throws IOException {
    JsonNode spec = YAML.readTree(EXAMPLES.resolve("microvmset.yaml").toFile()).path("spec");
    assertThat(spec.path("replicas").asInt()).isPositive();
    spec.path("selector")
        .path("matchLabels")
        .properties()
        .forEach(
            e ->
                assertThat(spec.path("template").path("metadata").path("labels").path(e.getKey()))
                    .isEqualTo(e.getValue()));
  }

  @Test
  void theCheckRejectsAMisspeltField() throws IOException {
    Path bad = tmp.resolve("bad.yaml");
    Files.writeString(
        bad,
        Files.readString(EXAMPLES.resolve("rate-limited-vm.yaml"))
            .replace("refillTimeMs: 100\n", "refillTimeMS: 100\n"));
    assertThatThrownBy(() -> new ManifestReader().read(bad))
        .isInstanceOf(ManifestException.class)
        .hasMessageContaining("refillTimeMS");
  }

  /** The set's template as a MicroVM manifest of its own, in a temporary file. */
  private Path templateAsMicroVm(Path file, JsonNode set) throws IOException {
    JsonNode template = set.path("spec").path("template");
    ObjectNode vm = YAML.createObjectNode();
    vm.put("apiVersion", set.path("apiVersion").asText());
    vm.put("kind", "MicroVM");
    vm.putObject("metadata").put("name", set.path("metadata").path("name").asText() + "-0");
    vm.set("spec", template.path("spec"));
    Path out = tmp.resolve(file.getFileName());
    YAML.writeValue(out.toFile(), vm);
    return out;
  }
}
