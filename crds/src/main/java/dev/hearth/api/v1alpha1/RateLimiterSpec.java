package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Firecracker-style I/O limits: one bucket for bytes, one for operations. Live-updatable. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "Firecracker-style I/O limits: one token bucket for bytes, one for operations."
        + " Changes apply to a running VM without a restart.")
public class RateLimiterSpec extends ApiValue {

  @JsonPropertyDescription("Bucket counting bytes. Absent means unlimited bandwidth.")
  private TokenBucketSpec bandwidth;

  @JsonPropertyDescription(
      "Bucket counting operations (block requests or packets). Absent means unlimited operations.")
  private TokenBucketSpec ops;

  public RateLimiterSpec() {}

  public RateLimiterSpec(TokenBucketSpec bandwidth, TokenBucketSpec ops) {
    this.bandwidth = bandwidth;
    this.ops = ops;
  }

  public TokenBucketSpec getBandwidth() {
    return bandwidth;
  }

  public void setBandwidth(TokenBucketSpec bandwidth) {
    this.bandwidth = bandwidth;
  }

  public TokenBucketSpec getOps() {
    return ops;
  }

  public void setOps(TokenBucketSpec ops) {
    this.ops = ops;
  }
}
