package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** What the agent found out about /dev/kvm on its node. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("What the agent found out about /dev/kvm on the node.")
public class KvmInfo extends ApiValue {

  @JsonPropertyDescription("Whether /dev/kvm exists and the agent could open it.")
  private Boolean present;

  @JsonPropertyDescription("The KVM API version (KVM_GET_API_VERSION; 12 on supported kernels).")
  private Integer apiVersion;

  @JsonPropertyDescription(
      "Whether this KVM can run a Linux guest; false where KVM only emulates guest instructions (no vmx/svm). Absent when not probed.")
  private Boolean canRunLinux;

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
}
