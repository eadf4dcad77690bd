package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** A Secret in the MicroVM's namespace holding registry credentials, as a Pod names one. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "A Secret in the MicroVM's namespace with registry credentials (type"
        + " kubernetes.io/dockerconfigjson), as a Pod's imagePullSecrets names one.")
public class PullSecretReference extends ApiValue {
  @JsonPropertyDescription("The Secret's name, in the MicroVM's namespace.")
  @Required
  @Size(min = 1, max = 253)
  @ValidationRule(
      value = "self.matches('^" + CelText.DNS_SUBDOMAIN + "$')",
      message =
          "an image pull secret's name must be a Secret name: lowercase letters, digits, '-' and"
              + " '.', starting and ending with a letter or digit")
  private String name;

  public PullSecretReference() {}

  public PullSecretReference(String name) {
    this.name = name;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  @Override
  public String toString() {
    return name;
  }
}
