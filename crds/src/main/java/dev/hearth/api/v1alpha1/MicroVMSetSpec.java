package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.model.annotation.SpecReplicas;

/** Desired state of a MicroVMSet. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("Desired state of a MicroVMSet: how many MicroVMs, which, and what they are.")
@ValidationRule(
    value =
        "!has(self.selector) || !has(self.template)"
            + " || ((!has(self.selector.matchLabels) || self.selector.matchLabels.all(k, "
            + MicroVMSetSpec.HAS_LABELS
            + " && k in "
            + MicroVMSetSpec.LABELS
            + " && "
            + MicroVMSetSpec.LABELS
            + "[k] == self.selector.matchLabels[k]))"
            + " && (!has(self.selector.matchExpressions) || self.selector.matchExpressions.all(e,"
            + " e.operator == 'In' ? ("
            + MicroVMSetSpec.HAS_KEY
            + " && has(e.values) && "
            + MicroVMSetSpec.LABELS
            + "[e.key] in e.values)"
            + " : e.operator == 'NotIn' ? (!"
            + MicroVMSetSpec.HAS_KEY
            + " || !has(e.values) || !("
            + MicroVMSetSpec.LABELS
            + "[e.key] in e.values))"
            + " : e.operator == 'Exists' ? "
            + MicroVMSetSpec.HAS_KEY
            + " : !"
            + MicroVMSetSpec.HAS_KEY
            + ")))",
    message =
        "selector does not match template.metadata.labels: the set would not count the MicroVMs"
            + " it creates and would create more without end",
    fieldPath = ".selector")
@ValidationRule(
    value =
        "!has(self.template) || !has(self.template.spec) || !has(self.template.spec.network)"
            + " || !has(self.replicas) || self.replicas <= 1"
            + " || self.template.spec.network.all(n, !has(n.macAddress))",
    message =
        "template.spec.network[].macAddress would give every MicroVM of the set the same MAC"
            + " address: leave it out (the agent gives each VM its own) or keep replicas at 1",
    fieldPath = ".template.spec.network")
@ValidationRule(
    value =
        "!has(self.template) || !has(self.template.spec) || !has(self.template.spec.network)"
            + " || !has(self.suspendedReplicas) || self.suspendedReplicas == 0"
            + " || self.template.spec.network.all(n, !has(n.macAddress))",
    message =
        "template.spec.network[].macAddress would give the set's running and suspended MicroVMs"
            + " the same MAC address: leave it out (the agent gives each VM its own) or keep"
            + " suspendedReplicas at 0",
    fieldPath = ".template.spec.network")
@ValidationRule(
    value =
        "!has(self.template) || !has(self.template.spec) || !has(self.template.spec.runState)"
            + " || self.template.spec.runState == 'Running'",
    message =
        "template.spec.runState must be Running: a set's MicroVMs run (pause or suspend one"
            + " MicroVM through its own spec.runState)",
    fieldPath = ".template.spec.runState")
public class MicroVMSetSpec {
  // CEL fragments of the rule above.
  static final String HAS_LABELS =
      "has(self.template.metadata) && has(self.template.metadata.labels)";
  static final String LABELS = "self.template.metadata.labels";
  static final String HAS_KEY =
      "(has(self.template.metadata) && has(self.template.metadata.labels) && e.key in self.template.metadata.labels)";

  @JsonPropertyDescription("How many MicroVMs the set keeps (0 to 10000). kubectl scale sets it.")
  @SpecReplicas
  @Min(0)
  @Max(10000)
  @Default("1")
  private Integer replicas = 1;

  @JsonPropertyDescription(
      "A warm pool: how many MicroVMs the set keeps Suspended besides the running replicas (0 to"
          + " 1000, default 0). They boot once, then wait in a snapshot on their node without"
          + " holding memory. Scaling up resumes suspended MicroVMs before booting new ones, and"
          + " the set then refills the pool.")
  @Min(0)
  @Max(1000)
  @Default("0")
  private Integer suspendedReplicas = 0;

  @JsonPropertyDescription(
      "Which MicroVMs belong to the set: a label selector that is not empty and matches"
          + " template.metadata.labels.")
  @Required
  @SchemaFrom(type = LabelSelectorSchema.class)
  @ValidationRule(
      value =
          "(has(self.matchLabels) && size(self.matchLabels) > 0)"
              + " || (has(self.matchExpressions) && size(self.matchExpressions) > 0)",
      message =
          "selector must not be empty: give matchLabels or matchExpressions (an empty selector"
              + " would select every MicroVM in the namespace)")
  private LabelSelector selector;

  @JsonPropertyDescription("What each MicroVM of the set looks like.")
  @Required
  private MicroVMTemplate template;

  public MicroVMSetSpec() {}

  public Integer getSuspendedReplicas() {
    return suspendedReplicas;
  }

  public void setSuspendedReplicas(Integer suspendedReplicas) {
    this.suspendedReplicas = suspendedReplicas;
  }

  /** suspendedReplicas with the schema default applied. */
  public int suspendedReplicasOrDefault() {
    return suspendedReplicas == null ? 0 : suspendedReplicas;
  }

  public Integer getReplicas() {
    return replicas;
  }

  public void setReplicas(Integer replicas) {
    this.replicas = replicas;
  }

  public LabelSelector getSelector() {
    return selector;
  }

  public void setSelector(LabelSelector selector) {
    this.selector = selector;
  }

  public MicroVMTemplate getTemplate() {
    return template;
  }

  public void setTemplate(MicroVMTemplate template) {
    this.template = template;
  }

  /** Replicas with the schema default applied. */
  public int replicasOrDefault() {
    return replicas == null ? 1 : replicas;
  }
}
