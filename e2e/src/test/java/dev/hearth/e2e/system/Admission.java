package dev.hearth.e2e.system;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.hearth.agent.run.SchemaValidator;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The schema check an API server makes before it stores a Hearth object, from the generated CRDs of
 * {@code crds/yaml}: the mock server enforces no schema, so the fixture runs this in its place.
 * (CEL rules are evaluated by the crds module's tests, not here.)
 */
final class Admission {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private final Map<String, SchemaValidator> byKind = new HashMap<>();

  /** An object the API server would refuse, with every violation. */
  static final class Rejected extends RuntimeException {
    Rejected(String message) {
      super(message);
    }
  }

  Admission(Path crdDir) {
    try (Stream<Path> list = Files.list(crdDir)) {
      for (Path f : list.filter(p -> p.toString().endsWith(".yml")).toList()) {
        JsonNode crd = YAML.readTree(f.toFile());
        String kind = crd.path("spec").path("names").path("kind").asText();
        for (JsonNode version : crd.path("spec").path("versions")) {
          if (version.path("name").asText().equals("v1alpha1")) {
            byKind.put(kind, new SchemaValidator(version.path("schema").path("openAPIV3Schema")));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the CRDs in " + crdDir, e);
    }
    if (!byKind.keySet().containsAll(List.of("MicroVM", "MicroVMSet", "MicroVMNode"))) {
      throw new IllegalStateException("missing Hearth CRDs in " + crdDir + ": " + byKind.keySet());
    }
  }

  /** Throws {@link Rejected} when {@code resource} breaks its CRD's schema. */
  void check(HasMetadata resource) {
    JsonNode doc = Serialization.jsonMapper().valueToTree(resource);
    check(doc);
  }

  /** Throws {@link Rejected} when {@code doc} (a whole manifest) breaks its CRD's schema. */
  void check(JsonNode doc) {
    String kind = doc.path("kind").asText();
    SchemaValidator validator = byKind.get(kind);
    if (validator == null) {
      throw new Rejected("no Hearth CRD for kind '" + kind + "'");
    }
    List<String> errors = validator.validate(doc);
    if (!errors.isEmpty()) {
      throw new Rejected(
          kind
              + " "
              + doc.path("metadata").path("name").asText("(unnamed)")
              + " is invalid: "
              + String.join("; ", errors));
    }
  }
}
