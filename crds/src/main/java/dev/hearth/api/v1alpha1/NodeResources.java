package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;

/** An amount of vCPUs and memory on a node. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("An amount of vCPUs and memory.")
public class NodeResources extends ApiValue {

  @JsonPropertyDescription(
      "Number of vCPUs (guest vCPUs, not host cores: the agent may overcommit by its own config).")
  @Min(0)
  private Integer vcpus;

  @JsonPropertyDescription("Memory in MiB.")
  @Min(0)
  private Long memoryMiB;

  public NodeResources() {}

  public NodeResources(int vcpus, long memoryMiB) {
    this.vcpus = vcpus;
    this.memoryMiB = memoryMiB;
  }

  public Integer getVcpus() {
    return vcpus;
  }

  public void setVcpus(Integer vcpus) {
    this.vcpus = vcpus;
  }

  public Long getMemoryMiB() {
    return memoryMiB;
  }

  public void setMemoryMiB(Long memoryMiB) {
    this.memoryMiB = memoryMiB;
  }

  @Override
  public String toString() {
    return vcpus + " vCPUs, " + memoryMiB + " MiB";
  }
}
