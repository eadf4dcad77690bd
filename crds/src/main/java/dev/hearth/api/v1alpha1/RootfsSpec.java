package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;

/** The root block device (virtio-blk), attached first and used as {@code root=/dev/vda}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "The root disk: the first virtio-blk device (/dev/vda), mounted as root=/dev/vda.")
public class RootfsSpec extends ApiValue {

  @JsonPropertyDescription("Where the root disk image comes from.")
  @Required
  private ImageSource source;

  @JsonPropertyDescription("Attach the root disk read-only.")
  @Default("false")
  private Boolean readOnly = false;

  @JsonPropertyDescription("I/O limits on the root disk; can be changed while the VM runs.")
  private RateLimiterSpec rateLimiter;

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

  public RateLimiterSpec getRateLimiter() {
    return rateLimiter;
  }

  public void setRateLimiter(RateLimiterSpec rateLimiter) {
    this.rateLimiter = rateLimiter;
  }
}
