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
 * What the node agent reports about its node. The agent writes everything except the Ready
 * condition, which the operator derives from the node's Lease.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value =
        "!has(self.capacity) || !has(self.allocatable) || !has(self.allocatable.vcpus)"
            + " || !has(self.capacity.vcpus) || self.allocatable.vcpus <= self.capacity.vcpus",
    message = "allocatable.vcpus must not exceed capacity.vcpus",
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
  // An IPv4 network in CIDR form: four decimal octets of 0-255, '/', a prefix length of 0-32.
  static final String CIDR =
      "^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])([.](25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}/([0-9]|[12][0-9]|3[0-2])$";

  // CEL: the prefix length and the address as an integer, of a string that matches CIDR.
  private static final String PREFIX = "int(self.split('/')[1])";
  private static final String OCTET = "int(self.split('/')[0].split('.')[";
  private static final String ADDRESS =
      OCTET
          + "0]) * 16777216 + "
          + OCTET
          + "1]) * 65536 + "
          + OCTET
          + "2]) * 256 + "
          + OCTET
          + "3])";

  @JsonPropertyDescription("Total vCPUs and memory of the host.")
  private NodeResources capacity;

  @JsonPropertyDescription(
      "What MicroVMs may use: capacity less the agent's reservations for the host. The scheduler fits VMs (plus VMM overhead) into this.")
  private NodeResources allocatable;

  @JsonPropertyDescription("What the agent found out about /dev/kvm on this node.")
  private KvmInfo kvm;

  @JsonPropertyDescription("How many MicroVMs are bound to the node (the VMs column).")
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
      value =
          "!self.matches('"
              + CIDR
              + "') || ("
              + ADDRESS
              + ") % [1, 2, 4, 8, 16, 32, 64, 128, 256,"
              + " 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288,"
              + " 1048576, 2097152, 4194304, 8388608, 16777216, 33554432, 67108864, 134217728,"
              + " 268435456, 536870912, 1073741824, 2147483648, 4294967296][32 - "
              + PREFIX
              + "] == 0",
      message =
          "subnet must be a network address: the bits after the prefix must be zero (such as"
              + " 10.213.0.0/24, not 10.213.0.5/24)")
  private String subnet;

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
