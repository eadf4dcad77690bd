package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Value equality for the API model's spec and status parts, in one place instead of a hand-written
 * equals and hashCode per class: two parts are equal when they are of the same class and serialize
 * to the same JSON, which is what the API server stores (a null field and an absent one alike). It
 * has no properties of its own, so it adds nothing to a CRD schema.
 */
public abstract class ApiValue {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public final boolean equals(Object o) {
    return o == this
        || (o != null && o.getClass() == getClass() && json().equals(((ApiValue) o).json()));
  }

  @Override
  public final int hashCode() {
    return json().hashCode();
  }

  private JsonNode json() {
    return JSON.valueToTree(this);
  }
}
