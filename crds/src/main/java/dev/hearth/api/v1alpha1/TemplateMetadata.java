package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.LinkedHashMap;
import java.util.Map;

/** The part of ObjectMeta a MicroVMSet copies onto each MicroVM it creates. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TemplateMetadata {

  /** Labels of each created MicroVM; must match the set's selector. */
  @JsonPropertyDescription("Labels of each created MicroVM; they must match the set's selector.")
  private Map<String, String> labels = new LinkedHashMap<>();

  /** Annotations of each created MicroVM. */
  @JsonPropertyDescription("Annotations of each created MicroVM.")
  private Map<String, String> annotations = new LinkedHashMap<>();

  public TemplateMetadata() {}

  public Map<String, String> getLabels() {
    return labels;
  }

  public void setLabels(Map<String, String> labels) {
    this.labels = labels;
  }

  public Map<String, String> getAnnotations() {
    return annotations;
  }

  public void setAnnotations(Map<String, String> annotations) {
    this.annotations = annotations;
  }
}
