package dev.hearth.api.validation;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What the API server checks in every custom resource's metadata before the CRD's schema: a name
 * that is a DNS-1123 subdomain (or a generateName), a namespace that is a DNS-1123 label, and
 * well-formed label keys and values.
 */
final class ObjectMeta {
  private static final String LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
  private static final Pattern DNS1123_SUBDOMAIN = Pattern.compile(LABEL + "(\\." + LABEL + ")*");
  private static final Pattern DNS1123_LABEL = Pattern.compile(LABEL);
  private static final Pattern QUALIFIED_NAME =
      Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");

  private ObjectMeta() {}

  static List<String> validate(JsonNode resource) {
    List<String> errors = new ArrayList<>();
    JsonNode meta = resource.path("metadata");
    if (!meta.isObject()) {
      errors.add("metadata.name: Required value: name or generateName is required");
      return errors;
    }
    JsonNode name = meta.path("name");
    if (name.isMissingNode() || name.isNull() || name.asText().isEmpty()) {
      if (meta.path("generateName").asText("").isEmpty()) {
        errors.add("metadata.name: Required value: name or generateName is required");
      }
    } else if (!name.isTextual()) {
      errors.add("metadata.name: must be a string");
    } else {
      subdomain("metadata.name", name.asText(), errors);
    }
    JsonNode ns = meta.path("namespace");
    if (ns.isTextual() && !ns.asText().isEmpty()) {
      if (ns.asText().length() > 63 || !DNS1123_LABEL.matcher(ns.asText()).matches()) {
        errors.add(
            "metadata.namespace: \""
                + ns.asText()
                + "\" is not a DNS-1123 label: at most 63 lower case letters, digits and '-',"
                + " starting and ending with a letter or digit");
      }
    }
    JsonNode labels = meta.path("labels");
    for (Map.Entry<String, JsonNode> label : labels.properties()) {
      String field = "metadata.labels[" + label.getKey() + "]";
      labelKey(field, label.getKey(), errors);
      String value = label.getValue().asText("");
      if (value.length() > 63 || (!value.isEmpty() && !QUALIFIED_NAME.matcher(value).matches())) {
        errors.add(
            field
                + ": value \""
                + value
                + "\" must be at most 63 letters, digits, '-', '_' or '.', starting and ending"
                + " with a letter or digit");
      }
    }
    for (Iterator<String> it = meta.path("annotations").fieldNames(); it.hasNext(); ) {
      String key = it.next();
      labelKey("metadata.annotations[" + key + "]", key, errors);
    }
    return errors;
  }

  private static void subdomain(String field, String value, List<String> errors) {
    if (value.length() > 253 || !DNS1123_SUBDOMAIN.matcher(value).matches()) {
      errors.add(
          field
              + ": \""
              + value
              + "\" is not a lowercase RFC 1123 subdomain: at most 253 lower case letters,"
              + " digits, '-' and '.', starting and ending with a letter or digit");
    }
  }

  /** A qualified name: an optional DNS subdomain prefix and '/', then a name of 63 at most. */
  private static void labelKey(String field, String key, List<String> errors) {
    int slash = key.indexOf('/');
    String prefix = slash < 0 ? null : key.substring(0, slash);
    String name = slash < 0 ? key : key.substring(slash + 1);
    if (prefix != null) {
      subdomain(field + " key prefix", prefix, errors);
    }
    if (name.isEmpty() || name.length() > 63 || !QUALIFIED_NAME.matcher(name).matches()) {
      errors.add(
          field
              + ": key name \""
              + name
              + "\" must be 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a"
              + " letter or digit");
    }
  }
}
