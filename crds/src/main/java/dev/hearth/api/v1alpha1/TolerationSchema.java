package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * The schema of {@code spec.tolerations} items: core/v1 Toleration's fields, with the checks the
 * API server applies to a Pod's tolerations. Only the CRD generator reads it ({@code @SchemaFrom}
 * on MicroVMSpec); the model keeps fabric8's {@link io.fabric8.kubernetes.api.model.Toleration}.
 */
@ValidationRule(
    value =
        "(has(self.key) && self.key != '') || (has(self.operator) && self.operator == 'Exists')",
    message =
        "a toleration without a key must have operator Exists (it then tolerates every taint)",
    fieldPath = ".operator")
@ValidationRule(
    value =
        "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''",
    message = "a toleration with operator Exists must not have a value",
    fieldPath = ".value")
@ValidationRule(
    value = "!has(self.tolerationSeconds) || (has(self.effect) && self.effect == 'NoExecute')",
    message = "tolerationSeconds is only allowed with effect NoExecute",
    fieldPath = ".tolerationSeconds")
@JsonClassDescription(
    "A node taint the MicroVM tolerates, as a Pod toleration: key, operator, value,"
        + " effect and, for NoExecute, tolerationSeconds.")
final class TolerationSchema {
  private TolerationSchema() {}

  @JsonProperty
  @JsonPropertyDescription(
      "The taint key this toleration matches, a label key. Empty matches every key, with operator"
          + " Exists.")
  @Size(max = 317)
  @ValidationRule(
      value = "self == '' || (" + CelText.SELF_IS_QUALIFIED_NAME + ")",
      message = "key must be a label key: " + CelText.QUALIFIED_NAME_WORDS)
  private String key;

  @JsonProperty
  @JsonPropertyDescription(
      "How key and value are compared: Equal (the default) or Exists (any value; then value must"
          + " be empty).")
  @ValidationRule(
      value = "self in ['', 'Equal', 'Exists']",
      message = "operator must be Equal or Exists")
  @Size(max = 16)
  private String operator;

  @JsonProperty
  @JsonPropertyDescription("The taint value this toleration matches, with operator Equal.")
  @Size(max = 63)
  @ValidationRule(
      value = "self.matches('" + CelText.LABEL_VALUE + "')",
      message = "value must be a label value: " + CelText.LABEL_VALUE_WORDS)
  private String value;

  @JsonProperty
  @JsonPropertyDescription(
      "The taint effect this toleration matches: NoSchedule, PreferNoSchedule or NoExecute; empty"
          + " matches all three.")
  @ValidationRule(
      value = "self in ['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute']",
      message = "effect must be NoSchedule, PreferNoSchedule or NoExecute (or empty for all)")
  @Size(max = 16)
  private String effect;

  @JsonProperty
  @JsonPropertyDescription(
      "With effect NoExecute: how many seconds the VM stays on a node after the taint appears.")
  private Long tolerationSeconds;
}
