package dev.hearth.api.validation;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a resource against the structural OpenAPI v3 schema of a CRD, the way the API server does
 * before any controller sees it: types, required fields, unknown fields, bounds, lengths, patterns,
 * enums, and the uniqueness that {@code x-kubernetes-list-type} set and map lists demand. Each
 * violation is "field.path: problem".
 */
final class StructuralSchema {
  private final JSONSchemaProps schema;

  StructuralSchema(JSONSchemaProps schema) {
    this.schema = schema;
  }

  /** Every violation in {@code resource}, in document order. */
  List<String> validate(JsonNode resource) {
    List<String> errors = new ArrayList<>();
    check(schema, resource, "", errors);
    return errors;
  }

  private static void check(JSONSchemaProps s, JsonNode v, String path, List<String> errors) {
    if (v == null || v.isNull()) {
      return;
    }
    String type = s.getType() == null ? "" : s.getType();
    String where = path.isEmpty() ? "<root>" : path;
    switch (type) {
      case "object" -> checkObject(s, v, path, where, errors);
      case "array" -> checkArray(s, v, path, where, errors);
      case "string" -> checkString(s, v, where, errors);
      case "integer", "number" -> checkNumber(s, v, type, where, errors);
      case "boolean" -> {
        if (!v.isBoolean()) {
          errors.add(where + ": must be true or false, not " + show(v));
        }
      }
      default -> {
        // No type: x-kubernetes-int-or-string or preserved unknown fields. Nothing to check.
      }
    }
  }

  private static void checkObject(
      JSONSchemaProps s, JsonNode v, String path, String where, List<String> errors) {
    if (!v.isObject()) {
      errors.add(where + ": must be an object, not " + show(v));
      return;
    }
    for (String required : s.getRequired() == null ? List.<String>of() : s.getRequired()) {
      if (!v.has(required) || v.get(required).isNull()) {
        errors.add(join(path, required) + ": is required");
      }
    }
    if (s.getMaxProperties() != null && v.size() > s.getMaxProperties()) {
      errors.add(where + ": has " + v.size() + " entries, at most " + s.getMaxProperties());
    }
    if (s.getMinProperties() != null && v.size() < s.getMinProperties()) {
      errors.add(where + ": has " + v.size() + " entries, at least " + s.getMinProperties());
    }
    Map<String, JSONSchemaProps> props = s.getProperties() == null ? Map.of() : s.getProperties();
    JSONSchemaProps additional =
        s.getAdditionalProperties() == null ? null : s.getAdditionalProperties().getSchema();
    boolean preserve = Boolean.TRUE.equals(s.getXKubernetesPreserveUnknownFields());
    for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      String child = join(path, field.getKey());
      if (props.containsKey(field.getKey())) {
        check(props.get(field.getKey()), field.getValue(), child, errors);
      } else if (additional != null) {
        check(additional, field.getValue(), child, errors);
      } else if (!preserve && !isImplicit(path, field.getKey())) {
        errors.add(child + ": unknown field");
      }
    }
  }

  /**
   * Fields the API server accepts without the CRD listing them: apiVersion, kind and metadata at
   * the root, and the standard fields under any metadata.
   */
  private static boolean isImplicit(String path, String field) {
    if (path.isEmpty()) {
      return field.equals("apiVersion") || field.equals("kind") || field.equals("metadata");
    }
    return path.equals("metadata") || path.endsWith(".metadata");
  }

  private static void checkArray(
      JSONSchemaProps s, JsonNode v, String path, String where, List<String> errors) {
    if (!v.isArray()) {
      errors.add(where + ": must be a list, not " + show(v));
      return;
    }
    if (s.getMaxItems() != null && v.size() > s.getMaxItems()) {
      errors.add(where + ": has " + v.size() + " items, at most " + s.getMaxItems());
    }
    if (s.getMinItems() != null && v.size() < s.getMinItems()) {
      errors.add(where + ": has " + v.size() + " items, at least " + s.getMinItems());
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
  private static void checkUnique(JSONSchemaProps s, JsonNode v, String path, List<String> errors) {
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
                ? show(item)
                : String.join(", ", keys.stream().map(k -> k + "=" + show(item.path(k))).toList());
        errors.add(path + "[" + i + "]: duplicate entry " + what);
      }
    }
  }

  private static void checkString(
      JSONSchemaProps s, JsonNode v, String where, List<String> errors) {
    if (!v.isTextual()) {
      errors.add(where + ": must be a string, not " + show(v));
      return;
    }
    String text = v.asText();
    int length = text.codePointCount(0, text.length());
    if (s.getMinLength() != null && length < s.getMinLength()) {
      errors.add(where + ": must be at least " + s.getMinLength() + " characters");
    }
    if (s.getMaxLength() != null && length > s.getMaxLength()) {
      errors.add(where + ": must be at most " + s.getMaxLength() + " characters");
    }
    if (s.getPattern() != null && !Pattern.compile(s.getPattern()).matcher(text).find()) {
      errors.add(where + ": " + show(v) + " does not match " + s.getPattern());
    }
    if (s.getEnum() != null && !s.getEnum().isEmpty()) {
      List<String> allowed = s.getEnum().stream().map(JsonNode::asText).toList();
      if (!allowed.contains(text)) {
        errors.add(where + ": " + show(v) + " is not one of " + String.join(", ", allowed));
      }
    }
  }

  private static void checkNumber(
      JSONSchemaProps s, JsonNode v, String type, String where, List<String> errors) {
    if (!v.isNumber() || (type.equals("integer") && !v.canConvertToExactIntegral())) {
      errors.add(
          where
              + ": must be "
              + ("integer".equals(type) ? "an integer" : "a number")
              + ", not "
              + show(v));
      return;
    }
    BigDecimal n = v.decimalValue();
    if (s.getMinimum() != null) {
      BigDecimal min = BigDecimal.valueOf(s.getMinimum());
      boolean exclusive = Boolean.TRUE.equals(s.getExclusiveMinimum());
      if (exclusive ? n.compareTo(min) <= 0 : n.compareTo(min) < 0) {
        errors.add(where + ": " + v.asText() + " is below the minimum " + plain(min));
      }
    }
    if (s.getMaximum() != null) {
      BigDecimal max = BigDecimal.valueOf(s.getMaximum());
      boolean exclusive = Boolean.TRUE.equals(s.getExclusiveMaximum());
      if (exclusive ? n.compareTo(max) >= 0 : n.compareTo(max) > 0) {
        errors.add(where + ": " + v.asText() + " is above the maximum " + plain(max));
      }
    }
  }

  private static String plain(BigDecimal n) {
    return n.stripTrailingZeros().toPlainString();
  }

  private static String show(JsonNode v) {
    if (v.isTextual()) {
      return "\"" + v.asText() + "\"";
    }
    if (v.isMissingNode()) {
      return "none";
    }
    return v.isContainerNode() ? (v.isArray() ? "a list" : "an object") : v.toString();
  }

  private static String join(String path, String field) {
    return path.isEmpty() ? field : path + "." + field;
  }
}
