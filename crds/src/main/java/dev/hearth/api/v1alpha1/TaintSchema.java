package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * The schema of {@code spec.taints} items of a MicroVMNode: core/v1 Taint's fields, with the checks
 * the API server applies to a Node's taints. Only the CRD generator reads it ({@code @SchemaFrom}
 * on MicroVMNodeSpec); the model keeps fabric8's {@link io.fabric8.kubernetes.api.model.Taint}.
 */
@JsonClassDescription(
    "A taint: MicroVMs that do not tolerate it are not placed on the node"
        + " (NoSchedule), avoided (PreferNoSchedule) or moved away (NoExecute).")
final class TaintSchema {
  private TaintSchema() {}

  @JsonProperty
  @JsonPropertyDescription("The taint key, a label key.")
  @Required
  @Size(min = 1, max = 317)
  @ValidationRule(
      value = CelText.SELF_IS_QUALIFIED_NAME,
      message = "key must be a label key: " + CelText.QUALIFIED_NAME_WORDS)
  private String key;

  @JsonProperty
  @JsonPropertyDescription("The taint value, a label value.")
  @Size(max = 63)
  @ValidationRule(
      value = "self.matches('" + CelText.LABEL_VALUE + "')",
      message = "value must be a label value: " + CelText.LABEL_VALUE_WORDS)
  private String value;

  @JsonProperty
  @JsonPropertyDescription(
      "What the taint does to MicroVMs that do not tolerate it: NoSchedule, PreferNoSchedule or"
          + " NoExecute.")
  @Required
  @ValidationRule(
      value = "self in ['NoSchedule', 'PreferNoSchedule', 'NoExecute']",
      message = "effect must be NoSchedule, PreferNoSchedule or NoExecute")
  @Size(max = 16)
  private String effect;

  @JsonProperty
  @JsonPropertyDescription("When the taint was added (RFC 3339); only for NoExecute taints.")
  private String timeAdded;
}
