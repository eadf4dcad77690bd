package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/** A virtio-vsock device. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "A virtio-vsock device: sockets between the host and the guest without a network.")
public class VsockSpec extends ApiValue {

  @JsonPropertyDescription(
      "The guest's vsock context ID: at least 3 (0, 1 and 2 are reserved) and at most 4294967294.")
  @Required
  @Min(3)
  @Max(4294967294L)
  private Long cid;

  public VsockSpec() {}

  public VsockSpec(long cid) {
    this.cid = cid;
  }

  public Long getCid() {
    return cid;
  }

  public void setCid(Long cid) {
    this.cid = cid;
  }
}
