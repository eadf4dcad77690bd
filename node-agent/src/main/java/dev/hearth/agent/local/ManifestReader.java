package dev.hearth.agent.local;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMSet;
import dev.hearth.api.v1alpha1.MicroVMTemplate;
import dev.hearth.api.validation.CrdValidator;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Reads a manifest for {@code hearth run}: YAML, checked as an API server with Hearth's CRDs would
 * check it (metadata, the CRD's schema and its CEL rules, through {@link CrdValidator}), then bound
 * to the API model. What a cluster refuses, this refuses.
 *
 * <p>A MicroVM runs as written. A MicroVMSet runs as one replica of its template, named as the
 * operator names a set's first member ({@code <set>-0}): one machine has no scheduler to spread
 * replicas over, and {@code hearth run} runs one VM.
 */
public final class ManifestReader {
  private static final String API_VERSION = "hearth.dev/v1alpha1";

  private final ObjectMapper yaml =
      new ObjectMapper(new YAMLFactory())
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

  /**
   * The VM a manifest runs, and a line for the user when it is not the manifest itself.
   *
   * @param vm the MicroVM to boot
   * @param note for a MicroVMSet: which replica runs, and that the others do not
   */
  public record LocalVm(MicroVM vm, Optional<String> note) {}

  /** The MicroVM manifest at {@code file}, validated. */
  public MicroVM read(Path file) throws ManifestException {
    JsonNode doc = validated(file, "MicroVM");
    try {
      return yaml.treeToValue(doc, MicroVM.class);
    } catch (JsonProcessingException e) {
      throw new ManifestException(file + ": " + e.getOriginalMessage(), e);
    }
  }

  /** The MicroVM or MicroVMSet manifest at {@code file}, validated, as the one VM to run. */
  public LocalVm readVm(Path file) throws ManifestException {
    if (!"MicroVMSet".equals(parse(file).path("kind").asText(null))) {
      return new LocalVm(read(file), Optional.empty());
    }
    JsonNode doc = validated(file, "MicroVMSet");
    MicroVMSet set;
    try {
      set = yaml.treeToValue(doc, MicroVMSet.class);
    } catch (JsonProcessingException e) {
      throw new ManifestException(file + ": " + e.getOriginalMessage(), e);
    }
    MicroVMTemplate template = set.getSpec().getTemplate();
    String name = set.getMetadata().getName() + "-0";
    MicroVM vm = new MicroVM();
    vm.setMetadata(
        new ObjectMetaBuilder()
            .withName(name)
            .withLabels(template.getMetadata().getLabels())
            .withAnnotations(template.getMetadata().getAnnotations())
            .build());
    vm.setSpec(template.getSpec());
    int replicas = set.getSpec().replicasOrDefault();
    return new LocalVm(
        vm,
        Optional.of(
            "MicroVMSet "
                + set.getMetadata().getName()
                + " asks for "
                + replicas
                + " replica(s); hearth run boots one, "
                + name
                + ", from its template"));
  }

  private JsonNode validated(Path file, String kind) throws ManifestException {
    JsonNode doc = parse(file);
    expect(file, doc, "apiVersion", API_VERSION);
    expect(file, doc, "kind", kind);
    List<String> errors = CrdValidator.forKind(kind).validate(doc);
    if (!errors.isEmpty()) {
      String more = errors.size() > 1 ? " (and " + (errors.size() - 1) + " more)" : "";
      throw new ManifestException(file + ": " + errors.getFirst() + more);
    }
    return doc;
  }

  private JsonNode parse(Path file) throws ManifestException {
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
      throw new ManifestException(file + ": expected one MicroVM or MicroVMSet object");
    }
    return doc;
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
