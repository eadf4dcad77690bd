package dev.hearth.e2e.chart;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Finds fields that the typed Kubernetes model did not recognise. fabric8 keeps an unknown field (a
 * misspelt {@code hostNetwok}, a field at the wrong level) in {@code additionalProperties} instead
 * of failing, and helm does not validate against the API either, so the chart tests look for them
 * here: an API server would reject or silently drop them.
 */
final class UnknownFields {
  private static final String MODEL = "io.fabric8.kubernetes.api.model";

  private UnknownFields() {}

  /** "path.to.field" for every unknown field in the object graph of a typed model object. */
  static List<String> in(Object object) {
    List<String> found = new ArrayList<>();
    walk(object, object.getClass().getSimpleName(), found);
    return found;
  }

  private static void walk(Object o, String path, List<String> found) {
    if (o == null) {
      return;
    }
    if (o instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) {
        walk(list.get(i), path + "[" + i + "]", found);
      }
      return;
    }
    if (o instanceof Map<?, ?> map) {
      map.forEach((k, v) -> walk(v, path + "." + k, found));
      return;
    }
    if (!o.getClass().getPackageName().startsWith(MODEL)) {
      return; // a string, number, Quantity's value and the like
    }
    for (Method getter : o.getClass().getMethods()) {
      if (getter.getParameterCount() != 0
          || Modifier.isStatic(getter.getModifiers())
          || !getter.getName().startsWith("get")
          || getter.getName().equals("getClass")) {
        continue;
      }
      Object value = invoke(getter, o);
      if (getter.getName().equals("getAdditionalProperties")) {
        ((Map<?, ?>) value).keySet().forEach(k -> found.add(path + "." + k));
      } else {
        String field = getter.getName().substring(3);
        walk(
            value, path + "." + Character.toLowerCase(field.charAt(0)) + field.substring(1), found);
      }
    }
  }

  private static Object invoke(Method getter, Object o) {
    try {
      return getter.invoke(o);
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new AssertionError("cannot read " + getter + " of " + o.getClass().getName(), e);
    }
  }
}
