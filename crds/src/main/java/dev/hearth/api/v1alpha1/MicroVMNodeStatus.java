package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the node agent reports about its node. The agent writes everything except the conditions
 * (Ready, which the operator derives from the node's Lease) and the count of bound VMs.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value =
        "!has(self.capacity) || !has(self.allocatable) || !has(self.allocatable.vcpus)"
            + " || !has(self.capacity.vcpus) || self.allocatable.vcpus <= self.capacity.vcpus"
            + " * (has(self.vcpuOvercommitRatio) ? self.vcpuOvercommitRatio : 1)",
    message = "allocatable.vcpus must not exceed capacity.vcpus times vcpuOvercommitRatio",
    fieldPath = ".allocatable.vcpus")
@ValidationRule(
    value =
        "!has(self.capacity) || !has(self.allocatable) || !has(self.allocatable.memoryMiB)"
            + " || !has(self.capacity.memoryMiB)"
            + " || self.allocatable.memoryMiB <= self.capacity.memoryMiB",
    message = "allocatable.memoryMiB must not exceed capacity.memoryMiB",
    fieldPath = ".allocatable.memoryMiB")
@JsonClassDescription(
    "What the node agent reports about its node: capacity, what MicroVMs may use, KVM"
        + " facts and the guest subnet. The operator writes the Ready condition.")
public class MicroVMNodeStatus {
  static final String CIDR = CelText.IPV4_CIDR;
  private static final String PREFIX = CelText.CIDR_PREFIX;

  @JsonPropertyDescription("Total vCPUs and memory of the host.")
  private NodeResources capacity;

  @JsonPropertyDescription(
      "What MicroVMs may use: capacity less the agent's reservations for the host. The scheduler fits VMs (plus VMM overhead) into this.")
  private NodeResources allocatable;

  @JsonPropertyDescription(
      "What the agent keeps for the host and itself out of capacity (its --reserved-vcpus and"
          + " --reserved-memory-mib).")
  private NodeResources reserved;

  @JsonPropertyDescription(
      "Host memory in MiB each MicroVM costs on this node beyond its guest memory (the VMM's"
          + " threads, buffers and the agent's share). The scheduler counts it for every VM bound"
          + " here, in place of its own default.")
  @Min(0)
  private Long vmOverheadMiB;

  @JsonPropertyDescription(
      "Guest vCPUs the agent offers per host vCPU: allocatable.vcpus is (capacity.vcpus -"
          + " reserved.vcpus) times this.")
  @Min(1)
  private Integer vcpuOvercommitRatio;

  @JsonPropertyDescription("What the agent found out about /dev/kvm on this node.")
  private KvmInfo kvm;

  @JsonPropertyDescription(
      "How many MicroVMs are bound to the node and not finished (the VMs column), as the operator"
          + " counts them; updated with each node health pass.")
  @Min(0)
  private Integer microVMs;

  @JsonPropertyDescription("Version of the node agent.")
  private String agentVersion;

  @JsonPropertyDescription(
      "IPv4 subnet (CIDR, such as 10.213.0.0/24, prefix /8 to /30) of the node's bridge, from"
          + " which the agent allocates guest IPs.")
  @Size(max = 18)
  @ValidationRule(
      value = "self.matches('" + CIDR + "')",
      message = "subnet must be an IPv4 network in CIDR form, such as 10.213.0.0/24")
  @ValidationRule(
      value = "!self.matches('" + CIDR + "') || (" + PREFIX + " >= 8 && " + PREFIX + " <= 30)",
      message = "subnet must have a prefix length from /8 to /30, as the agent requires")
  @ValidationRule(
      value = CelText.CIDR_IS_NETWORK,
      message =
          "subnet must be a network address: the bits after the prefix must be zero (such as"
              + " 10.213.0.0/24, not 10.213.0.5/24)")
  private String subnet;

  @JsonPropertyDescription(
      "The node's IPv4 address (its InternalIP) through which the other nodes' agents route this"
          + " node's guest subnet.")
  @Size(max = 15)
  @ValidationRule(
      value = "self.matches('" + CelText.IPV4_ADDRESS + "')",
      message = "nodeAddress must be an IPv4 address such as 192.168.1.20")
  private String nodeAddress;

  @JsonPropertyDescription(
      "Latest observations of the node, shaped like metav1.Condition. Ready is written by the operator from the node's Lease.")
  @SchemaFrom(type = ConditionSchema[].class)
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

  public NodeResources getReserved() {
    return reserved;
  }

  public void setReserved(NodeResources reserved) {
    this.reserved = reserved;
  }

  public Long getVmOverheadMiB() {
    return vmOverheadMiB;
  }

  public void setVmOverheadMiB(Long vmOverheadMiB) {
    this.vmOverheadMiB = vmOverheadMiB;
  }

  public Integer getVcpuOvercommitRatio() {
    return vcpuOvercommitRatio;
  }

  public void setVcpuOvercommitRatio(Integer vcpuOvercommitRatio) {
    this.vcpuOvercommitRatio = vcpuOvercommitRatio;
  }

  public KvmInfo getKvm() {
    return kvm;
  }

  public void setKvm(KvmInfo kvm) {
    this.kvm = kvm;
  }

  public Integer getMicroVMs() {
    return microVMs;
  }

  public void setMicroVMs(Integer microVMs) {
    this.microVMs = microVMs;
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

  public String getNodeAddress() {
    return nodeAddress;
  }

  public void setNodeAddress(String nodeAddress) {
    this.nodeAddress = nodeAddress;
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
