package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.model.annotation.LabelSelector;
import io.fabric8.kubernetes.model.annotation.StatusReplicas;
import java.util.ArrayList;
import java.util.List;

/** Observed state of a MicroVMSet. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("Observed state of a MicroVMSet: how many MicroVMs it owns and how many run.")
public class MicroVMSetStatus {

  @JsonPropertyDescription("How many MicroVMs the set owns now (not being deleted).")
  @StatusReplicas
  private Integer replicas;

  @JsonPropertyDescription(
      "How many of them are Running (phase Running, and not paused or suspended through their"
          + " spec.runState).")
  private Integer readyReplicas;

  @JsonPropertyDescription("How many of them are Suspended, waiting in the warm pool.")
  private Integer suspendedReplicas;

  @JsonPropertyDescription(
      "The selector as a label-selector string, read by the scale subresource (kubectl scale, HPA).")
  @LabelSelector
  private String labelSelector;

  @JsonPropertyDescription("The metadata.generation this status describes.")
  private Long observedGeneration;

  @JsonPropertyDescription("Latest observations of the set, shaped like metav1.Condition.")
  @SchemaFrom(type = ConditionSchema[].class)
  private List<Condition> conditions = new ArrayList<>();

  public MicroVMSetStatus() {}

  public Integer getReplicas() {
    return replicas;
  }

  public void setReplicas(Integer replicas) {
    this.replicas = replicas;
  }

  public Integer getSuspendedReplicas() {
    return suspendedReplicas;
  }

  public void setSuspendedReplicas(Integer suspendedReplicas) {
    this.suspendedReplicas = suspendedReplicas;
  }

  public Integer getReadyReplicas() {
    return readyReplicas;
  }

  public void setReadyReplicas(Integer readyReplicas) {
    this.readyReplicas = readyReplicas;
  }

  public String getLabelSelector() {
    return labelSelector;
  }

  public void setLabelSelector(String labelSelector) {
    this.labelSelector = labelSelector;
  }

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }
}
