package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The schema of {@code status.conditions} items: metav1.Condition's fields, described for {@code
 * kubectl explain}. Only the CRD generator reads it ({@code @SchemaFrom} on the status classes);
 * the model keeps fabric8's {@link io.fabric8.kubernetes.api.model.Condition}.
 */
@JsonClassDescription(
    "One observation of the object's state, shaped like metav1.Condition: a type, its status"
        + " (True, False or Unknown), why, and since when.")
final class ConditionSchema {
  private ConditionSchema() {}

  @JsonProperty
  @JsonPropertyDescription("What the condition is about, in CamelCase, such as Ready.")
  private String type;

  @JsonProperty
  @JsonPropertyDescription("True, False or Unknown.")
  private String status;

  @JsonProperty
  @JsonPropertyDescription("The metadata.generation the condition was set for.")
  private Long observedGeneration;

  @JsonProperty
  @JsonPropertyDescription("When status last changed (RFC 3339).")
  private String lastTransitionTime;

  @JsonProperty
  @JsonPropertyDescription("Why status is what it is, in CamelCase.")
  private String reason;

  @JsonProperty
  @JsonPropertyDescription("Details for a human.")
  private String message;
}
