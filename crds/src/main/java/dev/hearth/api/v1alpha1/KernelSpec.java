package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** The guest kernel, booted directly (ELF vmlinux or bzImage). */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "The guest kernel, booted directly (ELF vmlinux or bzImage), and extra arguments"
        + " for its command line.")
public class KernelSpec extends ApiValue {
  /**
   * The longest command line a user may add. The kernel takes 2048 bytes; the VMM keeps 1536
   * (BootSource.MAX_CMDLINE) for the agent's and the user's arguments and the rest for its
   * virtio_mmio device parameters, and the agent's own take up to 173.
   */
  public static final int MAX_CMDLINE = 1024;

  /** The characters a command line may hold: printable ASCII (no backslashes, for CEL's sake). */
  public static final String CMDLINE = "[ -~]*";

  @JsonPropertyDescription("Where the kernel image (ELF vmlinux or bzImage) comes from.")
  @Required
  private ImageSource source;

  @JsonPropertyDescription(
      "Extra kernel command-line arguments, appended after those Hearth generates (console,"
          + " virtio_mmio devices, ip=): at most "
          + MAX_CMDLINE
          + " printable ASCII characters.")
  @Size(max = MAX_CMDLINE)
  @ValidationRule(
      value = "self.matches('^" + KernelSpec.CMDLINE + "$')",
      message =
          "cmdline may hold only printable ASCII characters: no tabs, newlines or other control"
              + " characters, nothing outside ASCII")
  private String cmdline;

  public KernelSpec() {}

  public KernelSpec(ImageSource source) {
    this.source = source;
  }

  public ImageSource getSource() {
    return source;
  }

  public void setSource(ImageSource source) {
    this.source = source;
  }

  public String getCmdline() {
    return cmdline;
  }

  public void setCmdline(String cmdline) {
    this.cmdline = cmdline;
  }
}
