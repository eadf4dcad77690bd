package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Taint;
import java.util.ArrayList;
import java.util.List;

/**
 * Scheduling knobs of a MicroVMNode. The scheduler also honours the labels, taints and {@code
 * unschedulable} flag of the core/v1 Node of the same name, when one exists.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "Scheduling settings of a node: taints and cordon, on top of those of the core"
        + " Node of the same name.")
public class MicroVMNodeSpec {

  @JsonPropertyDescription(
      "Taints that MicroVMs must tolerate to be placed here, in addition to those of the core"
          + " Node of the same name. At most 64.")
  @SchemaFrom(type = TaintSchema[].class)
  @Size(max = 64)
  @ValidationRule(
      value = "self.all(t, self.exists_one(u, u.key == t.key && u.effect == t.effect))",
      message = "taints must be unique by key and effect, as on a Node")
  private List<Taint> taints = new ArrayList<>();

  @JsonPropertyDescription(
      "When true no new MicroVMs are placed here (cordon); running ones stay. The core Node's spec.unschedulable has the same effect.")
  private Boolean unschedulable;

  public MicroVMNodeSpec() {}

  public List<Taint> getTaints() {
    return taints;
  }

  public void setTaints(List<Taint> taints) {
    this.taints = taints;
  }

  public Boolean getUnschedulable() {
    return unschedulable;
  }

  public void setUnschedulable(Boolean unschedulable) {
    this.unschedulable = unschedulable;
  }
}
