package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.Objects;

/** The guest kernel, booted directly (ELF vmlinux or bzImage). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class KernelSpec {

  /** Where the kernel image comes from. */
  @JsonPropertyDescription("Where the kernel image (ELF vmlinux or bzImage) comes from.")
  @Required
  private ImageSource source;

  /** Extra kernel command-line arguments, appended after the ones Hearth generates. */
  @JsonPropertyDescription(
      "Extra kernel command-line arguments, appended after those Hearth generates (console, virtio_mmio devices, ip=).")
  @Size(max = 2048)
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

  @Override
  public boolean equals(Object o) {
    return o instanceof KernelSpec k
        && Objects.equals(source, k.source)
        && Objects.equals(cmdline, k.cmdline);
  }

  @Override
  public int hashCode() {
    return Objects.hash(source, cmdline);
  }
}
