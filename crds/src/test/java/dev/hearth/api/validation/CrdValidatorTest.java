package dev.hearth.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the API server refuses on create, refused here with the field and the reason: metadata, the
 * structural schema and the CEL rules, together.
 */
class CrdValidatorTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final CrdValidator VM = CrdValidator.forKind("MicroVM");

  private static JsonNode yaml(String text) {
    try {
      return YAML.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> vm(String metadata, String spec) {
    return VM.validate(
        yaml(
            "apiVersion: hearth.dev/v1alpha1\nkind: MicroVM\nmetadata:\n"
                + metadata.indent(2)
                + "spec:\n"
                + spec.indent(2)));
  }

  private static final String KERNEL = "kernel: {source: {path: hello.elf}}\n";

  @Test
  void aGoodManifestPasses() {
    assertThat(vm("name: hello\nlabels: {app: web, hearth.dev/pool: a}", KERNEL)).isEmpty();
  }

  @Test
  void metadataIsCheckedAsTheServerChecksEveryResource() {
    assertThat(vm("name: Bad_Name", KERNEL))
        .singleElement()
        .asString()
        .startsWith("metadata.name: \"Bad_Name\" is not a lowercase RFC 1123 subdomain");
    assertThat(vm("labels: {a: b}", KERNEL)).containsExactly("metadata.name: is required");
    assertThat(vm("name: a\nnamespace: Not.A.Label", KERNEL))
        .singleElement()
        .asString()
        .startsWith("metadata.namespace: \"Not.A.Label\" is not a DNS-1123 label");
    assertThat(vm("name: a\nlabels: {\"bad key!\": v}", KERNEL))
        .singleElement()
        .asString()
        .startsWith("metadata.labels[bad key!]: key name \"bad key!\"");
    assertThat(vm("name: a\nlabels: {k: \"" + "v".repeat(64) + "\"}", KERNEL))
        .singleElement()
        .asString()
        .startsWith("metadata.labels[k]: value");
  }

  @Test
  void celRulesAreEvaluatedWithTheSchema() {
    // A bandwidth bucket without refillTimeMs passes the schema; a CEL rule refuses it.
    List<String> errors =
        vm("name: a", KERNEL + "rootfs: {source: {path: r}, rateLimiter: {bandwidth: {size: 5}}}");
    assertThat(errors).hasSize(1);
    assertThat(errors.getFirst()).startsWith("spec.rootfs.rateLimiter.bandwidth: ");
  }

  @Test
  void schemaViolationsComeFirstAndWrongTypesDoNotAlsoFailRules() {
    assertThat(vm("name: a", KERNEL + "vcpus: 33"))
        .containsExactly("spec.vcpus: 33 is above the maximum 32");
    assertThat(vm("name: a", "kernel: {source: {path: 7}}"))
        .containsExactly("spec.kernel.source.path: must be a string, not 7");
  }

  @Test
  void statusIsIgnoredOnCreateWhereTheCrdHasAStatusSubresource() {
    assertThat(
            VM.validate(
                yaml(
                    """
                    apiVersion: hearth.dev/v1alpha1
                    kind: MicroVM
                    metadata: {name: a}
                    spec: {kernel: {source: {path: k}}}
                    status: {phase: NotAPhase, bogus: 1}
                    """)))
        .isEmpty();
  }

  @Test
  void listItemsAreKeyedByTheirListMapKeys() {
    // Whatever the CRD declares: a set or map list holds no duplicate.
    assertThat(vm("name: a", KERNEL + "drives: [{name: d, source: {path: a}}]")).isEmpty();
  }
}
