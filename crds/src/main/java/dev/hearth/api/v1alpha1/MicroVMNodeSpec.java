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
    "Scheduling settings of a node (taints and cordon, on top of those of the core Node of the"
        + " same name) and the guest subnet allocated to it.")
@ValidationRule(
    value = "!has(oldSelf.subnet) || has(self.subnet)",
    message =
        "subnet cannot be removed once allocated: the node's VMs have addresses in it; delete the"
            + " MicroVMNode to free it")
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

  @JsonPropertyDescription(
      "IPv4 subnet (CIDR, prefix /8 to /30) from which this node's VMs get their addresses. The"
          + " operator allocates it from its cluster range (chart value network.clusterCIDR), as"
          + " Kubernetes allocates a Node's spec.podCIDR, and sets it once; an admin may set it"
          + " before the operator does. It cannot change afterwards.")
  @Size(max = 18)
  @ValidationRule(
      value = "self.matches('" + MicroVMNodeStatus.CIDR + "')",
      message = "subnet must be an IPv4 network in CIDR form, such as 10.213.4.0/24")
  @ValidationRule(
      value =
          "!self.matches('"
              + MicroVMNodeStatus.CIDR
              + "') || ("
              + CelText.CIDR_PREFIX
              + " >= 8 && "
              + CelText.CIDR_PREFIX
              + " <= 30)",
      message = "subnet must have a prefix length from /8 to /30, as the agent requires")
  @ValidationRule(
      value = CelText.CIDR_IS_NETWORK,
      message =
          "subnet must be a network address: the bits after the prefix must be zero (such as"
              + " 10.213.4.0/24, not 10.213.4.5/24)")
  @ValidationRule(
      value = "self == oldSelf",
      message =
          "subnet cannot change once allocated: the node's VMs have addresses in it; delete the"
              + " MicroVMNode to free it")
  private String subnet;

  public MicroVMNodeSpec() {}

  public String getSubnet() {
    return subnet;
  }

  public void setSubnet(String subnet) {
    this.subnet = subnet;
  }

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
