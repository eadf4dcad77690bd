package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;
import java.util.Map;

/**
 * The schema of a MicroVMSet's {@code spec.selector}: metav1.LabelSelector's fields, bounded and
 * checked as the API server checks a Deployment's selector. Only the CRD generator reads it
 * ({@code @SchemaFrom} on MicroVMSetSpec); the model keeps fabric8's {@link
 * io.fabric8.kubernetes.api.model.LabelSelector}.
 */
@JsonClassDescription(
    "A label selector: matchLabels and matchExpressions, all of which a MicroVM must" + " meet.")
final class LabelSelectorSchema {
  private LabelSelectorSchema() {}

  @JsonProperty
  @JsonPropertyDescription("Labels a MicroVM must carry, with these values.")
  @Size(max = 64)
  @ValidationRule(
      value = CelText.KEYS_ARE_QUALIFIED_NAMES,
      message = "matchLabels keys must be label keys: " + CelText.QUALIFIED_NAME_WORDS)
  @ValidationRule(
      value = CelText.VALUES_ARE_LABEL_VALUES,
      message = "matchLabels values must be label values: " + CelText.LABEL_VALUE_WORDS)
  private Map<String, @Size(max = 63) String> matchLabels;

  @JsonProperty
  @JsonPropertyDescription("Label requirements a MicroVM must meet, all of them.")
  @Size(max = 32)
  private List<Requirement> matchExpressions;

  /** One requirement of matchExpressions. */
  @JsonClassDescription(
      "A label requirement: key, operator (In, NotIn, Exists, DoesNotExist) and values.")
  @ValidationRule(
      value =
          "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0)"
              + " : (!has(self.values) || size(self.values) == 0)",
      message =
          "values must be non-empty for operator In and NotIn, and empty for Exists and"
              + " DoesNotExist",
      fieldPath = ".values")
  static final class Requirement {
    private Requirement() {}

    @JsonProperty
    @JsonPropertyDescription("The label key the requirement applies to.")
    @io.fabric8.generator.annotation.Required
    @Size(min = 1, max = 317)
    @ValidationRule(
        value = CelText.SELF_IS_QUALIFIED_NAME,
        message = "key must be a label key: " + CelText.QUALIFIED_NAME_WORDS)
    private String key;

    @JsonProperty
    @JsonPropertyDescription("In, NotIn, Exists or DoesNotExist.")
    @io.fabric8.generator.annotation.Required
    @ValidationRule(
        value = "self in ['In', 'NotIn', 'Exists', 'DoesNotExist']",
        message = "operator must be In, NotIn, Exists or DoesNotExist")
    private String operator;

    @JsonProperty
    @JsonPropertyDescription(
        "Label values: at least one for In and NotIn, none for Exists and DoesNotExist.")
    @Size(max = 64)
    @ValidationRule(
        value = "self.all(v, v.matches('" + CelText.LABEL_VALUE + "'))",
        message = "values must be label values: " + CelText.LABEL_VALUE_WORDS)
    private List<@Size(max = 63) String> values;
  }
}
