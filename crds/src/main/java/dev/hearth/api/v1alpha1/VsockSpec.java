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
  /** The lowest guest CID: 0, 1 and 2 are reserved (the VMM's VsockConfig.MIN_GUEST_CID). */
  public static final long MIN_CID = 3;

  /** The highest guest CID: 2^32 - 1 means "any" (the VMM's VsockConfig.MAX_GUEST_CID). */
  public static final long MAX_CID = 0xffff_fffeL;

  @JsonPropertyDescription(
      "The guest's vsock context ID: at least "
          + MIN_CID
          + " (0, 1 and 2 are reserved) and at most "
          + MAX_CID
          + ".")
  @Required
  @Min(MIN_CID)
  @Max(MAX_CID)
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
