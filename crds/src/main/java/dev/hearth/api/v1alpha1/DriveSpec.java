package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** An extra virtio-blk disk, attached after the rootfs in list order. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "An extra virtio-blk disk, attached after the rootfs in list order: the first is /dev/vdb.")
public class DriveSpec extends ApiValue {
  /** The longest serial the guest can read (the VMM's DriveConfig.MAX_SERIAL, virtio's GET_ID). */
  public static final int MAX_SERIAL = 20;

  /** The characters a serial may hold, as a regex character class repeated (no backslashes). */
  public static final String SERIAL = "[A-Za-z0-9._-]*";

  @JsonPropertyDescription(
      "Name of the drive: a DNS label (lowercase alphanumerics and '-'), unique among the VM's"
          + " drives and network interfaces, not '"
          + MicroVMLimits.ROOTFS_NAME
          + "' or '"
          + MicroVMLimits.RNG_NAME
          + "'.")
  @Required
  @Size(min = 1, max = MicroVMLimits.MAX_DEVICE_NAME)
  @ValidationRule(
      value = "self.matches('^" + CelText.DNS_LABEL + "$')",
      message =
          "name must be a DNS label: lowercase letters, digits and '-', starting and ending with a"
              + " letter or digit")
  private String name;

  @JsonPropertyDescription("Where the disk image comes from.")
  @Required
  private ImageSource source;

  @JsonPropertyDescription("Attach the disk read-only.")
  @Default("false")
  private Boolean readOnly = false;

  @JsonPropertyDescription(
      "virtio-blk serial number the guest sees (/sys/block/*/serial): at most "
          + MAX_SERIAL
          + " characters of [A-Za-z0-9._-].")
  @Size(max = MAX_SERIAL)
  @ValidationRule(
      value = "self.matches('^" + DriveSpec.SERIAL + "$')",
      message =
          "serial may hold only letters, digits, '.', '_' and '-' (at most " + MAX_SERIAL + ")")
  private String serial;

  @JsonPropertyDescription("I/O limits on this disk; can be changed while the VM runs.")
  private RateLimiterSpec rateLimiter;

  public DriveSpec() {}

  public DriveSpec(String name, ImageSource source) {
    this.name = name;
    this.source = source;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
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

  public String getSerial() {
    return serial;
  }

  public void setSerial(String serial) {
    this.serial = serial;
  }

  public RateLimiterSpec getRateLimiter() {
    return rateLimiter;
  }

  public void setRateLimiter(RateLimiterSpec rateLimiter) {
    this.rateLimiter = rateLimiter;
  }
}
