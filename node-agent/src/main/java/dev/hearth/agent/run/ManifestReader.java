package dev.hearth.agent.run;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.validation.CrdValidator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads a MicroVM manifest for {@code hearth run}: YAML, checked as an API server with Hearth's
 * CRDs would check it (metadata, the CRD's schema and its CEL rules, through {@link CrdValidator}),
 * then bound to the API model. What a cluster refuses, this refuses.
 */
public final class ManifestReader {
  private static final String API_VERSION = "hearth.dev/v1alpha1";

  private final ObjectMapper yaml =
      new ObjectMapper(new YAMLFactory())
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);
  private final CrdValidator validator = CrdValidator.forKind("MicroVM");

  /** The manifest at {@code file}, validated. */
  public MicroVM read(Path file) throws ManifestException {
    if (!Files.isRegularFile(file)) {
      throw new ManifestException(file + ": no such manifest file");
    }
    JsonNode doc;
    try {
      doc = yaml.readTree(file.toFile());
    } catch (JsonProcessingException e) {
      throw new ManifestException(
          file + ": not valid YAML: " + e.getOriginalMessage().lines().findFirst().orElse(""), e);
    } catch (IOException e) {
      throw new ManifestException(file + ": cannot read the manifest: " + e.getMessage(), e);
    }
    if (doc == null || !doc.isObject()) {
      throw new ManifestException(file + ": expected one MicroVM object");
    }
    expect(file, doc, "apiVersion", API_VERSION);
    expect(file, doc, "kind", "MicroVM");
    List<String> errors = validator.validate(doc);
    if (!errors.isEmpty()) {
      String more = errors.size() > 1 ? " (and " + (errors.size() - 1) + " more)" : "";
      throw new ManifestException(file + ": " + errors.getFirst() + more);
    }
    try {
      return yaml.treeToValue(doc, MicroVM.class);
    } catch (JsonProcessingException e) {
      throw new ManifestException(file + ": " + e.getOriginalMessage(), e);
    }
  }

  private static void expect(Path file, JsonNode doc, String field, String wanted)
      throws ManifestException {
    String actual = doc.path(field).asText(null);
    if (!wanted.equals(actual)) {
      throw new ManifestException(
          file
              + ": "
              + field
              + ": expected "
              + wanted
              + ", found "
              + (actual == null ? "none" : actual));
    }
  }
}
