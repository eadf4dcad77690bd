package dev.hearth.api.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hearth.api.v1alpha1.HearthApi;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Validates a Hearth custom resource as an API server with its CRD installed would on create: the
 * metadata rules every resource obeys, the CRD's structural schema, and every {@code
 * x-kubernetes-validations} rule it carries (transition rules need an old object and are skipped),
 * after filling in the schema's defaults. Messages read "field.path: reason" in the server's own
 * words ({@code spec.vcpus: Invalid value: 33: spec.vcpus in body should be less than or equal to
 * 32}, {@code spec.drives: Invalid value: "array": <the rule's message>}), as kubectl prints them.
 */
public final class CrdValidator {
  private static final String CRD_RESOURCE = "META-INF/fabric8/%s." + HearthApi.GROUP + "-v1.yml";
  private static final Map<String, CrdValidator> BY_PLURAL = new ConcurrentHashMap<>();
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String kind;
  private final boolean statusSubresource;
  private final StructuralSchema schema;
  private final CelRules rules;

  /** A validator for {@code crd}'s first (and only) version. */
  public CrdValidator(CustomResourceDefinition crd) {
    this.kind = crd.getSpec().getNames().getKind();
    var version = crd.getSpec().getVersions().getFirst();
    this.statusSubresource =
        version.getSubresources() != null && version.getSubresources().getStatus() != null;
    this.schema = new StructuralSchema(version.getSchema().getOpenAPIV3Schema());
    this.rules = new CelRules(crd);
  }

  /**
   * The validator for the generated CRD of {@code kind} (MicroVM, MicroVMSet, MicroVMNode) on the
   * classpath, made once per JVM: compiling the rules takes a moment.
   *
   * @throws IllegalArgumentException when no such CRD is on the classpath
   */
  public static CrdValidator forKind(String kind) {
    String plural = kind.toLowerCase(Locale.ROOT) + "s";
    return BY_PLURAL.computeIfAbsent(plural, p -> new CrdValidator(load(p)));
  }

  /** The kind this validator checks. */
  public String kind() {
    return kind;
  }

  /**
   * Every reason the API server would refuse to create {@code resource}, metadata first, then the
   * schema, then the CEL rules; empty when it would accept it. A status is ignored where the CRD
   * has a status subresource, as the server ignores it on create.
   */
  public List<String> validate(JsonNode resource) {
    return validate(resource, false);
  }

  /**
   * Every reason the API server would refuse {@code resource} written through its status
   * subresource (as the agent and operator write status): the whole object is checked, its status
   * included. Transition rules are skipped, as in {@link #validate}.
   */
  public List<String> validateStatusWrite(JsonNode resource) {
    return validate(resource, true);
  }

  private List<String> validate(JsonNode resource, boolean statusWrite) {
    if (!resource.isObject()) {
      return List.of("<root>: must be an object");
    }
    ObjectNode object = resource.deepCopy();
    if (statusSubresource && !statusWrite) {
      object.remove("status");
    }
    // The server fills in defaults as it decodes a request, before it validates anything.
    schema.applyDefaults(object);
    List<String> errors = new ArrayList<>(ObjectMeta.validate(object));
    List<StructuralSchema.Violation> structural = schema.validate(object);
    structural.forEach(v -> errors.add(v.toString()));
    if (structural.stream().anyMatch(StructuralSchema.Violation::blocksRules)) {
      // The server evaluates no rule over an object with such an error; it says so instead.
      errors.add(
          "<root>: some validation rules were not checked because the object was invalid;"
              + " correct the existing errors to complete validation");
      return errors;
    }
    for (CelRules.Violation v : rules.validate(celView(object))) {
      errors.add(v.asServerSays());
    }
    return errors;
  }

  /** The object as CEL sees it: rules at the root see only metadata.name and generateName. */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> celView(ObjectNode object) {
    ObjectNode view = object.deepCopy();
    if (view.get("metadata") instanceof ObjectNode meta) {
      meta.retain("name", "generateName");
    }
    return JSON.convertValue(view, Map.class);
  }

  private static CustomResourceDefinition load(String plural) {
    String resource = CRD_RESOURCE.formatted(plural);
    try (InputStream in = CrdValidator.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalArgumentException("no CRD " + resource + " on the classpath");
      }
      return Serialization.unmarshal(in, CustomResourceDefinition.class);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the CRD " + resource, e);
    }
  }
}
