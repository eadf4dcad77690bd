package dev.hearth.api.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a resource against the structural OpenAPI v3 schema of a CRD, the way the API server does
 * before any controller sees it: defaults first, then types, required fields, unknown fields,
 * bounds, lengths, patterns, enums, and the uniqueness that {@code x-kubernetes-list-type} set and
 * map lists demand. Each violation is worded as the server words it ({@code spec.vcpus: Invalid
 * value: 33: spec.vcpus in body should be less than or equal to 32}), so that {@code hearth run}
 * and {@code kubectl apply} say the same thing.
 */
final class StructuralSchema {

  /**
   * One violation: the field, the server's error type and the detail.
   *
   * @param blocksRules whether the server, seeing it, skips the CEL rules (it evaluates none over
   *     an object with a wrong type, an unsupported value, or a string or list above its maximum)
   */
  record Violation(String path, String type, String detail, boolean blocksRules) {
    @Override
    public String toString() {
      return (path.isEmpty() ? "<root>" : path)
          + ": "
          + type
          + (detail.isEmpty() ? "" : ": ")
          + detail;
    }
  }

  private final JSONSchemaProps schema;

  StructuralSchema(JSONSchemaProps schema) {
    this.schema = schema;
  }

  /** Every violation in {@code resource}, in document order. */
  List<Violation> validate(JsonNode resource) {
    List<Violation> errors = new ArrayList<>();
    check(schema, resource, "", errors);
    return errors;
  }

  /**
   * Fills in the schema's defaults where a field is absent, in place, as the server does when it
   * decodes a request: in objects, list items and map values alike.
   */
  void applyDefaults(JsonNode resource) {
    applyDefaults(schema, resource);
  }

  private static void applyDefaults(JSONSchemaProps s, JsonNode v) {
    if (v instanceof ObjectNode object) {
      if (s.getProperties() != null) {
        for (var e : s.getProperties().entrySet()) {
          JsonNode child = object.get(e.getKey());
          if ((child == null || child.isNull()) && e.getValue().getDefault() != null) {
            object.set(e.getKey(), e.getValue().getDefault().deepCopy());
          }
          if (object.get(e.getKey()) != null) {
            applyDefaults(e.getValue(), object.get(e.getKey()));
          }
        }
      }
      JSONSchemaProps additional =
          s.getAdditionalProperties() == null ? null : s.getAdditionalProperties().getSchema();
      if (additional != null) {
        object.forEach(child -> applyDefaults(additional, child));
      }
    } else if (v instanceof ArrayNode array && s.getItems() != null) {
      JSONSchemaProps items = s.getItems().getSchema();
      if (items != null) {
        array.forEach(item -> applyDefaults(items, item));
      }
    }
  }

  private static void check(JSONSchemaProps s, JsonNode v, String path, List<Violation> errors) {
    if (v == null || v.isNull()) {
      return;
    }
    String type = s.getType() == null ? "" : s.getType();
    if (!type.isEmpty() && !hasType(v, type)) {
      errors.add(
          new Violation(
              path,
              "Invalid value",
              quote(typeOf(v))
                  + ": "
                  + inBody(path)
                  + " must be of type "
                  + type
                  + ": "
                  + quote(typeOf(v)),
              true));
      return;
    }
    switch (type) {
      case "object" -> checkObject(s, v, path, errors);
      case "array" -> checkArray(s, v, path, errors);
      case "string" -> checkString(s, v, path, errors);
      case "integer", "number" -> checkNumber(s, v, path, errors);
      default -> {
        // boolean (its type is all there is to check), or no type: x-kubernetes-int-or-string
        // or preserved unknown fields.
      }
    }
  }

  private static boolean hasType(JsonNode v, String type) {
    return switch (type) {
      case "object" -> v.isObject();
      case "array" -> v.isArray();
      case "string" -> v.isTextual();
      case "boolean" -> v.isBoolean();
      case "integer" -> v.isNumber() && v.canConvertToExactIntegral();
      case "number" -> v.isNumber();
      default -> true;
    };
  }

  /** The JSON type of a value, as the server names it in a type error. */
  private static String typeOf(JsonNode v) {
    if (v.isTextual()) {
      return "string";
    }
    if (v.isBoolean()) {
      return "boolean";
    }
    if (v.isNumber()) {
      return v.canConvertToExactIntegral() ? "integer" : "number";
    }
    return v.isArray() ? "array" : v.isObject() ? "object" : "null";
  }

  private static void checkObject(
      JSONSchemaProps s, JsonNode v, String path, List<Violation> errors) {
    for (String required : s.getRequired() == null ? List.<String>of() : s.getRequired()) {
      if (!v.has(required) || v.get(required).isNull()) {
        errors.add(new Violation(join(path, required), "Required value", "", false));
      }
    }
    if (s.getMaxProperties() != null && v.size() > s.getMaxProperties()) {
      errors.add(tooMany(path, v.size(), s.getMaxProperties()));
    }
    if (s.getMinProperties() != null && v.size() < s.getMinProperties()) {
      errors.add(
          invalid(path, v.size(), "should have at least " + s.getMinProperties() + " properties"));
    }
    Map<String, JSONSchemaProps> props = s.getProperties() == null ? Map.of() : s.getProperties();
    JSONSchemaProps additional =
        s.getAdditionalProperties() == null ? null : s.getAdditionalProperties().getSchema();
    boolean preserve = Boolean.TRUE.equals(s.getXKubernetesPreserveUnknownFields());
    for (Map.Entry<String, JsonNode> field : v.properties()) {
      String child = join(path, field.getKey());
      if (props.containsKey(field.getKey())) {
        check(props.get(field.getKey()), field.getValue(), child, errors);
      } else if (additional != null) {
        check(additional, field.getValue(), child, errors);
      } else if (!preserve && !isImplicit(path, field.getKey())) {
        errors.add(new Violation(child, "unknown field", "", false));
      }
    }
  }

  /**
   * Fields the API server accepts without the CRD listing them: apiVersion, kind and metadata at
   * the root, and the standard fields under the root's metadata (ObjectMeta checks those). A
   * metadata deeper down, such as a set's template's, is an ordinary object of the schema.
   */
  private static boolean isImplicit(String path, String field) {
    if (path.isEmpty()) {
      return field.equals("apiVersion") || field.equals("kind") || field.equals("metadata");
    }
    return path.equals("metadata");
  }

  private static void checkArray(
      JSONSchemaProps s, JsonNode v, String path, List<Violation> errors) {
    if (s.getMaxItems() != null && v.size() > s.getMaxItems()) {
      errors.add(tooMany(path, v.size(), s.getMaxItems()));
    }
    if (s.getMinItems() != null && v.size() < s.getMinItems()) {
      errors.add(invalid(path, v.size(), "should have at least " + s.getMinItems() + " items"));
    }
    JSONSchemaProps items = s.getItems() == null ? null : s.getItems().getSchema();
    for (int i = 0; i < v.size(); i++) {
      if (items != null) {
        check(items, v.get(i), path + "[" + i + "]", errors);
      }
    }
    checkUnique(s, v, path, errors);
  }

  /** Set lists hold no item twice; map lists no two items with the same keys. */
  private static void checkUnique(
      JSONSchemaProps s, JsonNode v, String path, List<Violation> errors) {
    String listType = s.getXKubernetesListType();
    List<String> keys = s.getXKubernetesListMapKeys();
    if (!"set".equals(listType) && !("map".equals(listType) && keys != null && !keys.isEmpty())) {
      return;
    }
    Set<List<JsonNode>> seen = new HashSet<>();
    for (int i = 0; i < v.size(); i++) {
      JsonNode item = v.get(i);
      List<JsonNode> key = new ArrayList<>();
      if ("set".equals(listType)) {
        key.add(item);
      } else {
        keys.forEach(k -> key.add(item.path(k)));
      }
      if (!seen.add(key)) {
        String what =
            "set".equals(listType)
                ? item.toString()
                : String.join(", ", keys.stream().map(k -> k + "=" + item.path(k)).toList());
        errors.add(new Violation(path + "[" + i + "]", "Duplicate value", what, false));
      }
    }
  }

  private static void checkString(
      JSONSchemaProps s, JsonNode v, String path, List<Violation> errors) {
    String text = v.asText();
    int length = text.codePointCount(0, text.length());
    if (s.getMaxLength() != null && length > s.getMaxLength()) {
      errors.add(
          new Violation(
              path, "Too long", "may not be more than " + s.getMaxLength() + " bytes", true));
    }
    if (s.getMinLength() != null && length < s.getMinLength()) {
      errors.add(invalid(path, v, "should be at least " + s.getMinLength() + " chars long"));
    }
    if (s.getPattern() != null && !Pattern.compile(s.getPattern()).matcher(text).find()) {
      errors.add(invalid(path, v, "should match '" + s.getPattern() + "'"));
    }
    if (s.getEnum() != null && !s.getEnum().isEmpty()) {
      List<String> allowed = s.getEnum().stream().map(JsonNode::asText).toList();
      if (!allowed.contains(text)) {
        errors.add(
            new Violation(
                path,
                "Unsupported value",
                quote(text)
                    + ": supported values: "
                    + String.join(", ", allowed.stream().map(StructuralSchema::quote).toList()),
                true));
      }
    }
  }

  private static void checkNumber(
      JSONSchemaProps s, JsonNode v, String path, List<Violation> errors) {
    BigDecimal n = v.decimalValue();
    if (s.getMinimum() != null) {
      BigDecimal min = BigDecimal.valueOf(s.getMinimum());
      boolean exclusive = Boolean.TRUE.equals(s.getExclusiveMinimum());
      if (exclusive ? n.compareTo(min) <= 0 : n.compareTo(min) < 0) {
        errors.add(
            invalid(
                path,
                v,
                "should be greater than " + (exclusive ? "" : "or equal to ") + plain(min)));
      }
    }
    if (s.getMaximum() != null) {
      BigDecimal max = BigDecimal.valueOf(s.getMaximum());
      boolean exclusive = Boolean.TRUE.equals(s.getExclusiveMaximum());
      if (exclusive ? n.compareTo(max) >= 0 : n.compareTo(max) > 0) {
        errors.add(
            invalid(
                path, v, "should be less than " + (exclusive ? "" : "or equal to ") + plain(max)));
      }
    }
  }

  /** The server's "Invalid value: <value>: <path> in body <reason>". */
  private static Violation invalid(String path, Object value, String reason) {
    String shown = value instanceof JsonNode j && j.isTextual() ? quote(j.asText()) : value + "";
    return new Violation(path, "Invalid value", shown + ": " + inBody(path) + " " + reason, false);
  }

  /** The server's "Too many: <size>: must have at most <max> items", for lists and maps. */
  private static Violation tooMany(String path, int size, long max) {
    return new Violation(path, "Too many", size + ": must have at most " + max + " items", true);
  }

  private static String inBody(String path) {
    return path.isEmpty() ? "body" : path + " in body";
  }

  private static String plain(BigDecimal n) {
    return n.stripTrailingZeros().toPlainString();
  }

  private static String quote(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static String join(String path, String field) {
    return path.isEmpty() ? field : path + "." + field;
  }
}
