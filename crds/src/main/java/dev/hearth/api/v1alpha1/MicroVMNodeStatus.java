package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the node agent reports about its node. The agent writes everything except the Ready
 * condition, which the operator derives from the node's Lease.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MicroVMNodeStatus {

  /** Total resources of the host. */
  @JsonPropertyDescription("Total vCPUs and memory of the host.")
  private NodeResources capacity;

  /** What MicroVMs may use: capacity less the agent's reservations. */
  @JsonPropertyDescription(
      "What MicroVMs may use: capacity less the agent's reservations for the host. The scheduler fits VMs (plus VMM overhead) into this.")
  private NodeResources allocatable;

  /** What the agent found about /dev/kvm. */
  @JsonPropertyDescription("What the agent found out about /dev/kvm on this node.")
  private KvmInfo kvm;

  /** Version of the node agent. */
  @JsonPropertyDescription("Version of the node agent.")
  private String agentVersion;

  /** IPv4 subnet in CIDR form from which the agent allocates guest IPs. */
  @JsonPropertyDescription(
      "IPv4 subnet (CIDR) of the node's bridge, from which the agent allocates guest IPs.")
  @Pattern("^([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}$")
  private String subnet;

  /** Latest observations, metav1.Condition-shaped (Ready is the operator's). */
  @JsonPropertyDescription(
      "Latest observations of the node, shaped like metav1.Condition. Ready is written by the operator from the node's Lease.")
  private List<Condition> conditions = new ArrayList<>();

  public MicroVMNodeStatus() {}

  public NodeResources getCapacity() {
    return capacity;
  }

  public void setCapacity(NodeResources capacity) {
    this.capacity = capacity;
  }

  public NodeResources getAllocatable() {
    return allocatable;
  }

  public void setAllocatable(NodeResources allocatable) {
    this.allocatable = allocatable;
  }

  public KvmInfo getKvm() {
    return kvm;
  }

  public void setKvm(KvmInfo kvm) {
    this.kvm = kvm;
  }

  public String getAgentVersion() {
    return agentVersion;
  }

  public void setAgentVersion(String agentVersion) {
    this.agentVersion = agentVersion;
  }

  public String getSubnet() {
    return subnet;
  }

  public void setSubnet(String subnet) {
    this.subnet = subnet;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }

  /** The condition of this type, if present. */
  public Optional<Condition> condition(String type) {
    if (conditions == null) {
      return Optional.empty();
    }
    return conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }
}
