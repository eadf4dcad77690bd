package dev.hearth.api.v1alpha1;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRule;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Reads the CRDs the generator wrote in this build, and walks their schemas. */
final class GeneratedCrds {
  private GeneratedCrds() {}

  static final String REFRESH_HINT =
      "Refresh the committed copies with: ./mvnw -pl crds -am -Pupdate-crds process-test-classes";

  static Path generatedDir() {
    return Path.of(System.getProperty("hearth.crds.generated", "target/classes/META-INF/fabric8"));
  }

  static Path committedDir() {
    return Path.of(System.getProperty("hearth.crds.committed", "yaml"));
  }

  static CustomResourceDefinition load(String plural) {
    Path file = generatedDir().resolve(plural + "." + HearthApi.GROUP + "-v1.yml");
    try (InputStream in = Files.newInputStream(file)) {
      return Serialization.unmarshal(in, CustomResourceDefinition.class);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read generated CRD " + file, e);
    }
  }

  static JSONSchemaProps root(CustomResourceDefinition crd) {
    return crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema();
  }

  /**
   * The schema at a dotted path below the root; {@code []} steps into array items, e.g. {@code
   * spec.drives[].serial}.
   */
  static JSONSchemaProps at(CustomResourceDefinition crd, String path) {
    JSONSchemaProps s = root(crd);
    for (String step : path.split("\\.")) {
      boolean items = step.endsWith("[]");
      String name = items ? step.substring(0, step.length() - 2) : step;
      JSONSchemaProps next = s.getProperties() == null ? null : s.getProperties().get(name);
      if (next == null) {
        throw new AssertionError("no property '" + name + "' on the way to " + path);
      }
      s = items ? next.getItems().getSchema() : next;
    }
    return s;
  }

  static List<String> rules(JSONSchemaProps s) {
    List<ValidationRule> v = s.getXKubernetesValidations();
    return v == null ? List.of() : v.stream().map(ValidationRule::getRule).toList();
  }
}
