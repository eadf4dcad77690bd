package dev.hearth.e2e.system;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hearth.api.validation.CrdValidator;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
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
 * The checks an API server makes before it stores a new Hearth object, from the generated CRDs of
 * {@code crds/yaml}: metadata, schema and CEL rules ({@link CrdValidator}, as {@code hearth run}
 * uses). The mock server enforces none of them, so the fixture runs this in its place.
 */
final class Admission {
  private final Map<String, CrdValidator> byKind = new HashMap<>();

  /** An object the API server would refuse, with every violation. */
  static final class Rejected extends RuntimeException {
    Rejected(String message) {
      super(message);
    }
  }

  Admission(Path crdDir) {
    try (Stream<Path> list = Files.list(crdDir)) {
      for (Path f : list.filter(p -> p.toString().endsWith(".yml")).toList()) {
        try (var in = Files.newInputStream(f)) {
          CrdValidator validator =
              new CrdValidator(Serialization.unmarshal(in, CustomResourceDefinition.class));
          byKind.put(validator.kind(), validator);
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
    CrdValidator validator = byKind.get(kind);
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
