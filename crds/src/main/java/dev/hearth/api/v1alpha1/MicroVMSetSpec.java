package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.model.annotation.SpecReplicas;

/** Desired state of a MicroVMSet. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MicroVMSetSpec {

  /** How many MicroVMs the set keeps. */
  @JsonPropertyDescription("How many MicroVMs the set keeps (0 to 10000). kubectl scale sets it.")
  @SpecReplicas
  @Min(0)
  @Max(10000)
  @Default("1")
  private Integer replicas = 1;

  /** Which MicroVMs belong to the set; must match the template's labels. */
  @JsonPropertyDescription(
      "Which MicroVMs belong to the set. It must match template.metadata.labels; the operator reports a mismatch as condition SelectorMismatch.")
  @Required
  private LabelSelector selector;

  /** What each MicroVM looks like. */
  @JsonPropertyDescription("What each MicroVM of the set looks like.")
  @Required
  private MicroVMTemplate template;

  public MicroVMSetSpec() {}

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
