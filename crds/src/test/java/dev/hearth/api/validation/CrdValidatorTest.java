package dev.hearth.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
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
    assertThat(vm("labels: {a: b}", KERNEL))
        .containsExactly("metadata.name: Required value: name or generateName is required");
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
  void schemaViolationsAreWordedAsTheServerWordsThem() {
    assertThat(vm("name: a", KERNEL + "vcpus: 33"))
        .containsExactly(
            "spec.vcpus: Invalid value: 33: spec.vcpus in body should be less than or equal to 32");
    assertThat(vm("name: a", KERNEL + "memoryMiB: 8"))
        .containsExactly(
            "spec.memoryMiB: Invalid value: 8: spec.memoryMiB in body should be greater than or"
                + " equal to 16");
    assertThat(vm("name: a", "vcpus: 1"))
        .containsExactly(
            "spec.kernel: Invalid value: \"object\": spec.kernel is required, unless spec.container"
                + " names an image (the node then boots its own kernel)");
    assertThat(vm("name: a", KERNEL + "restartPolicy: Sometimes"))
        .startsWith(
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\","
                + " \"Never\", \"OnFailure\"");
    assertThat(vm("name: a", KERNEL + "vcpu: 2")).containsExactly("spec.vcpu: unknown field");
  }

  @Test
  void anErrorThatBlocksRulesLeavesThemUnchecked() {
    // A wrong type, an unsupported value, a string or list above its maximum: the server
    // evaluates no CEL rule then (a rule over a wrong type would only fail to evaluate) and says
    // so. Here the bucket's CEL rule (size without refillTimeMs) is not evaluated.
    String bucket = "rootfs: {source: {path: r}, rateLimiter: {bandwidth: {size: 5}}}\n";
    assertThat(vm("name: a", "kernel: {source: {path: 7}}\n" + bucket))
        .containsExactly(
            "spec.kernel.source.path: Invalid value: \"integer\": spec.kernel.source.path in body"
                + " must be of type string: \"integer\"",
            "<root>: some validation rules were not checked because the object was invalid;"
                + " correct the existing errors to complete validation");
    // A missing field does not block them: both are reported.
    assertThat(vm("name: a", "vcpus: 2\n" + bucket))
        .hasSize(2)
        .first()
        .isEqualTo(
            "spec.kernel: Invalid value: \"object\": spec.kernel is required, unless spec.container"
                + " names an image (the node then boots its own kernel)");
  }

  @Test
  void defaultsAreFilledInBeforeValidation() {
    ObjectNode vm =
        (ObjectNode)
            yaml(
                """
                spec:
                  kernel: {source: {path: k}}
                  rootfs: {source: {path: r}}
                  drives: [{name: d, source: {path: a}}]
                """);
    new StructuralSchema(schemaOf("microvms")).applyDefaults(vm);
    assertThat(vm.at("/spec/vcpus").asInt()).isEqualTo(1);
    assertThat(vm.at("/spec/memoryMiB").asInt()).isEqualTo(128);
    assertThat(vm.at("/spec/restartPolicy").asText()).isEqualTo("Always");
    assertThat(vm.at("/spec/rootfs/readOnly").isBoolean()).isTrue();
    assertThat(vm.at("/spec/drives/0/readOnly").asBoolean(true)).isFalse();
  }

  private static JSONSchemaProps schemaOf(String plural) {
    String resource = "META-INF/fabric8/" + plural + ".hearth.dev-v1.yml";
    try (InputStream in = CrdValidatorTest.class.getClassLoader().getResourceAsStream(resource)) {
      return Serialization.unmarshal(in, CustomResourceDefinition.class)
          .getSpec()
          .getVersions()
          .getFirst()
          .getSchema()
          .getOpenAPIV3Schema();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void aSetsTemplateMetadataIsAnOrdinaryObjectOfTheSchema() {
    // Only the root's metadata is Kubernetes' own; the template's holds labels and annotations.
    List<String> errors =
        CrdValidator.forKind("MicroVMSet")
            .validate(
                yaml(
                    """
                    apiVersion: hearth.dev/v1alpha1
                    kind: MicroVMSet
                    metadata: {name: s}
                    spec:
                      selector: {matchLabels: {app: a}}
                      template:
                        metadata: {name: x, labels: {app: a}}
                        spec: {kernel: {source: {path: k}}}
                    """));
    assertThat(errors).containsExactly("spec.template.metadata.name: unknown field");
  }

  @Test
  void aStatusWriteIsCheckedWithItsStatus() {
    JsonNode node =
        yaml(
            """
            apiVersion: hearth.dev/v1alpha1
            kind: MicroVMNode
            metadata: {name: n}
            status: {subnet: 10.0.0.1/24}
            """);
    CrdValidator nodes = CrdValidator.forKind("MicroVMNode");
    assertThat(nodes.validate(node)).isEmpty();
    assertThat(nodes.validateStatusWrite(node))
        .singleElement()
        .asString()
        .startsWith("status.subnet: Invalid value: \"string\": subnet must be a network address");
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
