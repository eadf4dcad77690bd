package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import java.lang.reflect.Field;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.Map;

/**
 * Puts each class's {@link JsonClassDescription} on the schemas of that class that have no
 * description of their own: the root (the resource class), spec and status (their classes), and the
 * items of lists. fabric8's generator writes only property descriptions; a property's own
 * description always wins. Classes are matched to schemas by walking the Java fields alongside the
 * schema's properties ({@link SchemaFrom} decides a field's class where present).
 */
final class ClassDescriptions {
  private ClassDescriptions() {}

  /** Describes {@code schema}, the root of {@code resource}'s CRD, and everything below it. */
  static void apply(Class<?> resource, JSONSchemaProps schema) {
    describe(schema, resource);
    Type[] specAndStatus =
        ((ParameterizedType) resource.getGenericSuperclass()).getActualTypeArguments();
    walkProperty(schema, "spec", specAndStatus[0]);
    walkProperty(schema, "status", specAndStatus[1]);
  }

  private static void walkProperty(JSONSchemaProps parent, String name, Type type) {
    JSONSchemaProps s = parent.getProperties() == null ? null : parent.getProperties().get(name);
    if (s != null) {
      walk(s, type);
    }
  }

  /** Describes {@code s}, a schema of {@code type}, and walks into its properties and items. */
  private static void walk(JSONSchemaProps s, Type type) {
    Class<?> raw = raw(type);
    if (raw.isArray() || java.util.List.class.isAssignableFrom(raw)) {
      if (s.getItems() != null && s.getItems().getSchema() != null) {
        Type item = raw.isArray() ? raw.getComponentType() : argument(type, 0);
        describe(s.getItems().getSchema(), raw(item));
        walk(s.getItems().getSchema(), item);
      }
      return;
    }
    if (Map.class.isAssignableFrom(raw)) {
      if (s.getAdditionalProperties() != null && s.getAdditionalProperties().getSchema() != null) {
        walk(s.getAdditionalProperties().getSchema(), argument(type, 1));
      }
      return;
    }
    describe(s, raw);
    if (s.getProperties() == null || raw.getName().startsWith("java.")) {
      return;
    }
    for (Map.Entry<String, JSONSchemaProps> e : s.getProperties().entrySet()) {
      Field f = field(raw, e.getKey());
      if (f != null) {
        SchemaFrom from = f.getAnnotation(SchemaFrom.class);
        walk(e.getValue(), from != null ? from.type() : f.getGenericType());
      }
    }
  }

  private static void describe(JSONSchemaProps s, Class<?> type) {
    JsonClassDescription d = type.getAnnotation(JsonClassDescription.class);
    if (d != null && (s.getDescription() == null || s.getDescription().isBlank())) {
      s.setDescription(d.value());
    }
  }

  /** The field of {@code type} (or a superclass) that Jackson writes as {@code property}. */
  private static Field field(Class<?> type, String property) {
    for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        JsonProperty p = f.getAnnotation(JsonProperty.class);
        String name = p != null && !p.value().isEmpty() ? p.value() : f.getName();
        if (name.equals(property)) {
          return f;
        }
      }
    }
    return null;
  }

  private static Class<?> raw(Type t) {
    if (t instanceof Class<?> c) {
      return c;
    }
    if (t instanceof ParameterizedType p) {
      return (Class<?>) p.getRawType();
    }
    if (t instanceof java.lang.reflect.AnnotatedType a) {
      return raw(a.getType());
    }
    return Object.class;
  }

  private static Type argument(Type t, int i) {
    return t instanceof ParameterizedType p ? p.getActualTypeArguments()[i] : Object.class;
  }
}
