package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.LinkedHashMap;
import java.util.Map;

/** The part of ObjectMeta a MicroVMSet copies onto each MicroVM it creates. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("Labels and annotations the set puts on each MicroVM it creates.")
public class TemplateMetadata {

  @JsonPropertyDescription(
      "Labels of each created MicroVM; they must match the set's selector. hearth.dev/node is the"
          + " operator's.")
  @Size(max = 64)
  @ValidationRule(
      value = CelText.KEYS_ARE_QUALIFIED_NAMES,
      message = "label keys must be label keys: " + CelText.QUALIFIED_NAME_WORDS)
  @ValidationRule(
      value = CelText.VALUES_ARE_LABEL_VALUES,
      message = "label values must be label values: " + CelText.LABEL_VALUE_WORDS)
  @ValidationRule(
      value = "!('hearth.dev/node' in self)",
      message =
          "label hearth.dev/node is the operator's: it sets it when it binds a MicroVM to a node")
  private Map<String, @Size(max = 63) String> labels = new LinkedHashMap<>();

  @JsonPropertyDescription(
      "Annotations of each created MicroVM: at most 32, each value at most 4096 characters, so that"
          + " they stay within the 256 KiB Kubernetes allows a MicroVM's annotations.")
  @Size(max = 32)
  @ValidationRule(
      value = CelText.KEYS_ARE_QUALIFIED_NAMES,
      message = "annotation keys must be label keys: " + CelText.QUALIFIED_NAME_WORDS)
  private Map<String, @Size(max = 4096) String> annotations = new LinkedHashMap<>();

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
