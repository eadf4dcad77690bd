package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Firecracker-style I/O limits: one bucket for bytes, one for operations. Live-updatable. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "Firecracker-style I/O limits: one token bucket for bytes, one for operations."
        + " Changes apply to a running VM without a restart.")
public record RateLimiterSpec(
    @JsonPropertyDescription("Bucket counting bytes. Absent means unlimited bandwidth.")
        TokenBucketSpec bandwidth,
    @JsonPropertyDescription(
            "Bucket counting operations (block requests or packets). Absent means unlimited"
                + " operations.")
        TokenBucketSpec ops) {}
