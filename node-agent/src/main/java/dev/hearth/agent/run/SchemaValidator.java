package dev.hearth.agent.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks a resource against the structural OpenAPI v3 schema of its generated CRD, the way the API
 * server does before any controller sees it: types, required fields, unknown fields, bounds,
 * lengths, patterns and enums. {@code hearth run} has no API server, so without this a bad manifest
 * would only fail deep inside the VMM. CEL rules ({@code x-kubernetes-validations}) are not
 * evaluated here; the few that matter locally are checked where the value is used.
 */
public final class SchemaValidator {
  private final JsonNode schema;

  /** A validator for {@code schema}, a CRD version's {@code openAPIV3Schema}. */
  public SchemaValidator(JsonNode schema) {
    this.schema = schema;
  }

  /** Every violation in {@code resource}, as "field.path: problem", in document order. */
  public List<String> validate(JsonNode resource) {
    List<String> errors = new ArrayList<>();
    check(schema, resource, "", errors);
    return errors;
  }

  private static void check(JsonNode s, JsonNode v, String path, List<String> errors) {
    if (v == null || v.isNull()) {
      return;
    }
    String type = s.path("type").asText("");
    String where = path.isEmpty() ? "(root)" : path;
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
      JsonNode s, JsonNode v, String path, String where, List<String> errors) {
    if (!v.isObject()) {
      errors.add(where + ": must be an object, not " + show(v));
      return;
    }
    for (JsonNode required : s.path("required")) {
      if (!v.has(required.asText())) {
        errors.add(join(path, required.asText()) + ": is required");
      }
    }
    JsonNode props = s.path("properties");
    JsonNode additional = s.get("additionalProperties");
    boolean preserve = s.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
    for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      String child = join(path, field.getKey());
      if (props.has(field.getKey())) {
        check(props.get(field.getKey()), field.getValue(), child, errors);
      } else if (additional != null && additional.isObject()) {
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
      JsonNode s, JsonNode v, String path, String where, List<String> errors) {
    if (!v.isArray()) {
      errors.add(where + ": must be a list, not " + show(v));
      return;
    }
    if (s.has("maxItems") && v.size() > s.get("maxItems").asInt()) {
      errors.add(where + ": has " + v.size() + " items, at most " + s.get("maxItems").asInt());
    }
    if (s.has("minItems") && v.size() < s.get("minItems").asInt()) {
      errors.add(where + ": has " + v.size() + " items, at least " + s.get("minItems").asInt());
    }
    JsonNode items = s.path("items");
    for (int i = 0; i < v.size(); i++) {
      check(items, v.get(i), path + "[" + i + "]", errors);
    }
  }

  private static void checkString(JsonNode s, JsonNode v, String where, List<String> errors) {
    if (!v.isTextual()) {
      errors.add(where + ": must be a string, not " + show(v));
      return;
    }
    String text = v.asText();
    int length = text.codePointCount(0, text.length());
    if (s.has("minLength") && length < s.get("minLength").asInt()) {
      errors.add(where + ": must be at least " + s.get("minLength").asInt() + " characters");
    }
    if (s.has("maxLength") && length > s.get("maxLength").asInt()) {
      errors.add(where + ": must be at most " + s.get("maxLength").asInt() + " characters");
    }
    if (s.has("pattern") && !Pattern.compile(s.get("pattern").asText()).matcher(text).find()) {
      errors.add(where + ": " + show(v) + " does not match " + s.get("pattern").asText());
    }
    if (s.has("enum")) {
      List<String> allowed = new ArrayList<>();
      s.get("enum").forEach(e -> allowed.add(e.asText()));
      if (!allowed.contains(text)) {
        errors.add(where + ": " + show(v) + " is not one of " + String.join(", ", allowed));
      }
    }
  }

  private static void checkNumber(
      JsonNode s, JsonNode v, String type, String where, List<String> errors) {
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
    if (s.has("minimum") && n.compareTo(s.get("minimum").decimalValue()) < 0) {
      errors.add(where + ": " + v.asText() + " is below the minimum " + plain(s.get("minimum")));
    }
    if (s.has("maximum") && n.compareTo(s.get("maximum").decimalValue()) > 0) {
      errors.add(where + ": " + v.asText() + " is above the maximum " + plain(s.get("maximum")));
    }
  }

  private static String plain(JsonNode n) {
    return n.decimalValue().stripTrailingZeros().toPlainString();
  }

  private static String show(JsonNode v) {
    if (v.isTextual()) {
      return "\"" + v.asText() + "\"";
    }
    return v.isContainerNode() ? (v.isArray() ? "a list" : "an object") : v.toString();
  }

  private static String join(String path, String field) {
    return path.isEmpty() ? field : path + "." + field;
  }
}
