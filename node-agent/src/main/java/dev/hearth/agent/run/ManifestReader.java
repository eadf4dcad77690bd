package dev.hearth.agent.run;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.hearth.api.v1alpha1.MicroVM;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads a MicroVM manifest for {@code hearth run}: YAML, checked against the generated CRD's schema
 * as an API server would, then bound to the API model.
 *
 * <p>One extension over the cluster: an image {@code path} may be relative, and is then resolved
 * against the manifest's directory, so that a checkout's examples run from anywhere.
 */
public final class ManifestReader {
  private static final String CRD = "META-INF/fabric8/microvms.hearth.dev-v1.yml";
  private static final String API_VERSION = "hearth.dev/v1alpha1";

  private final ObjectMapper yaml =
      new ObjectMapper(new YAMLFactory())
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);
  private final SchemaValidator validator;

  public ManifestReader() {
    this.validator = new SchemaValidator(loadSchema(yaml));
  }

  /** The manifest at {@code file}, validated, with image paths made absolute. */
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
    resolveImagePaths((ObjectNode) doc, file.toAbsolutePath().getParent());
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

  private static void resolveImagePaths(ObjectNode doc, Path base) {
    JsonNode spec = doc.path("spec");
    resolve(spec.path("kernel").path("source"), base);
    resolve(spec.path("initrd"), base);
    resolve(spec.path("rootfs").path("source"), base);
    spec.path("drives").forEach(d -> resolve(d.path("source"), base));
  }

  private static void resolve(JsonNode source, Path base) {
    if (source instanceof ObjectNode s && s.path("path").isTextual()) {
      String p = s.get("path").asText();
      if (!p.isEmpty() && !p.startsWith("/")) {
        s.put("path", base.resolve(p).normalize().toString());
      }
    }
  }

  private static JsonNode loadSchema(ObjectMapper yaml) {
    try (InputStream in = ManifestReader.class.getClassLoader().getResourceAsStream(CRD)) {
      if (in == null) {
        throw new IllegalStateException("the MicroVM CRD " + CRD + " is not on the classpath");
      }
      for (JsonNode version : yaml.readTree(in).path("spec").path("versions")) {
        if (version.path("name").asText().equals("v1alpha1")) {
          return version.path("schema").path("openAPIV3Schema");
        }
      }
      throw new IllegalStateException("the MicroVM CRD has no v1alpha1 schema");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
