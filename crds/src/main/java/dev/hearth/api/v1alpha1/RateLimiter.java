package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/** Firecracker-style I/O limits: one bucket for bytes, one for operations. Live-updatable. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "Firecracker-style I/O limits: one token bucket for bytes, one for operations."
        + " Changes apply to a running VM without a restart.")
public class RateLimiter {

  /** Bucket counting bytes. */
  @JsonPropertyDescription("Bucket counting bytes. Absent means unlimited bandwidth.")
  private TokenBucket bandwidth;

  /** Bucket counting operations (requests or packets). */
  @JsonPropertyDescription(
      "Bucket counting operations (block requests or packets). Absent means unlimited operations.")
  private TokenBucket ops;

  public RateLimiter() {}

  public RateLimiter(TokenBucket bandwidth, TokenBucket ops) {
    this.bandwidth = bandwidth;
    this.ops = ops;
  }

  public TokenBucket getBandwidth() {
    return bandwidth;
  }

  public void setBandwidth(TokenBucket bandwidth) {
    this.bandwidth = bandwidth;
  }

  public TokenBucket getOps() {
    return ops;
  }

  public void setOps(TokenBucket ops) {
    this.ops = ops;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RateLimiter r
        && Objects.equals(bandwidth, r.bandwidth)
        && Objects.equals(ops, r.ops);
  }

  @Override
  public int hashCode() {
    return Objects.hash(bandwidth, ops);
  }
}
