package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * A token bucket with Firecracker's semantics: {@code size} tokens refill over {@code
 * refillTimeMs}; {@code oneTimeBurst} extra tokens are available once. A size or refill time of 0
 * disables the bucket.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value =
        "!has(self.oneTimeBurst) || self.oneTimeBurst == 0 || (has(self.size) && self.size > 0)",
    message = "oneTimeBurst requires a non-zero size")
@ValidationRule(
    value =
        "(has(self.size) && self.size > 0) == (has(self.refillTimeMs) && self.refillTimeMs > 0)",
    message = "size and refillTimeMs must both be set (non-zero) or both be 0")
@JsonClassDescription(
    "A token bucket: size tokens refill over refillTimeMs; oneTimeBurst extra tokens"
        + " are available once. A size or refill time of 0 disables it.")
public record TokenBucketSpec(
    @JsonPropertyDescription(
            "Bucket capacity in tokens (bytes for bandwidth, operations for ops). 0 disables the"
                + " bucket.")
        @Min(0)
        Long size,
    @JsonPropertyDescription(
            "Milliseconds it takes to refill an empty bucket to size, at most "
                + TokenBucketSpec.MAX_REFILL_TIME_MS
                + " (about 106 days). 0 disables the bucket.")
        @Min(0)
        @Max(TokenBucketSpec.MAX_REFILL_TIME_MS)
        Long refillTimeMs,
    @JsonPropertyDescription(
            "Extra tokens available once at start, on top of size; they do not refill. Requires"
                + " size.")
        @Min(0)
        Long oneTimeBurst) {
  /**
   * The longest refill time the VMM takes (TokenBucketConfig.MAX_REFILL_TIME_MILLIS): nanosecond
   * arithmetic overflows above it.
   */
  public static final long MAX_REFILL_TIME_MS = 9223372036L;

  /** A bucket without a one-time burst. */
  public TokenBucketSpec(long size, long refillTimeMs) {
    this(size, refillTimeMs, null);
  }
}
