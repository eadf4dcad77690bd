package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/** What each MicroVM of a set looks like. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "What each MicroVM of the set looks like: its labels and annotations, and its" + " spec.")
public class MicroVMTemplate {

  @JsonPropertyDescription("Labels and annotations of each created MicroVM.")
  private TemplateMetadata metadata = new TemplateMetadata();

  @JsonPropertyDescription("The spec of each created MicroVM.")
  @Required
  private MicroVMSpec spec;

  public MicroVMTemplate() {}

  public TemplateMetadata getMetadata() {
    return metadata;
  }

  public void setMetadata(TemplateMetadata metadata) {
    this.metadata = metadata;
  }

  public MicroVMSpec getSpec() {
    return spec;
  }

  public void setSpec(MicroVMSpec spec) {
    this.spec = spec;
  }
}
