package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/** What the agent found out about /dev/kvm on its node. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("What the agent found out about /dev/kvm on the node.")
public class KvmInfo {

  /** Whether /dev/kvm exists and opens. */
  @JsonPropertyDescription("Whether /dev/kvm exists and the agent could open it.")
  private Boolean present;

  /** KVM_GET_API_VERSION (12 on every supported kernel). */
  @JsonPropertyDescription("The KVM API version (KVM_GET_API_VERSION; 12 on supported kernels).")
  private Integer apiVersion;

  /** Whether this KVM can run a Linux guest (false on emulating KVMs such as kvm_pvm). */
  @JsonPropertyDescription(
      "Whether this KVM can run a Linux guest; false where KVM only emulates guest instructions (no vmx/svm). Absent when not probed.")
  private Boolean canRunLinux;

  /** Free-form detail, such as the CPU virtualization flags or why KVM is unusable. */
  @JsonPropertyDescription(
      "Free-form detail, such as the CPU virtualization extension or why KVM is unusable.")
  private String detail;

  public KvmInfo() {}

  public Boolean getPresent() {
    return present;
  }

  public void setPresent(Boolean present) {
    this.present = present;
  }

  public Integer getApiVersion() {
    return apiVersion;
  }

  public void setApiVersion(Integer apiVersion) {
    this.apiVersion = apiVersion;
  }

  public Boolean getCanRunLinux() {
    return canRunLinux;
  }

  public void setCanRunLinux(Boolean canRunLinux) {
    this.canRunLinux = canRunLinux;
  }

  public String getDetail() {
    return detail;
  }

  public void setDetail(String detail) {
    this.detail = detail;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KvmInfo k
        && Objects.equals(present, k.present)
        && Objects.equals(apiVersion, k.apiVersion)
        && Objects.equals(canRunLinux, k.canRunLinux)
        && Objects.equals(detail, k.detail);
  }

  @Override
  public int hashCode() {
    return Objects.hash(present, apiVersion, canRunLinux, detail);
  }
}
