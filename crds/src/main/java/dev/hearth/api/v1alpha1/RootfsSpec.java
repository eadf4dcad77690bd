package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import java.util.Objects;

/** The root block device (virtio-blk), attached first and used as {@code root=/dev/vda}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "The root disk: the first virtio-blk device (/dev/vda), mounted as root=/dev/vda.")
public class RootfsSpec {

  /** Where the root disk image comes from. */
  @JsonPropertyDescription("Where the root disk image comes from.")
  @Required
  private ImageSource source;

  /** Attach the root disk read-only. */
  @JsonPropertyDescription("Attach the root disk read-only.")
  @Default("false")
  private Boolean readOnly = false;

  /** I/O limits on the root disk. */
  @JsonPropertyDescription("I/O limits on the root disk; can be changed while the VM runs.")
  private RateLimiter rateLimiter;

  public RootfsSpec() {}

  public RootfsSpec(ImageSource source) {
    this.source = source;
  }

  public ImageSource getSource() {
    return source;
  }

  public void setSource(ImageSource source) {
    this.source = source;
  }

  public Boolean getReadOnly() {
    return readOnly;
  }

  public void setReadOnly(Boolean readOnly) {
    this.readOnly = readOnly;
  }

  public RateLimiter getRateLimiter() {
    return rateLimiter;
  }

  public void setRateLimiter(RateLimiter rateLimiter) {
    this.rateLimiter = rateLimiter;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RootfsSpec r
        && Objects.equals(source, r.source)
        && Objects.equals(readOnly, r.readOnly)
        && Objects.equals(rateLimiter, r.rateLimiter);
  }

  @Override
  public int hashCode() {
    return Objects.hash(source, readOnly, rateLimiter);
  }
}
