package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** One environment variable of a {@link ContainerSpec}, as a Pod container's env entry. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("An environment variable of the container, by name and literal value.")
public class ContainerEnvVar extends ApiValue {
  @JsonPropertyDescription(
      "The variable's name: printable ASCII without '=', at most "
          + ContainerSpec.MAX_ENV_NAME
          + " characters (a Pod's rule).")
  @Required
  @Size(min = 1, max = ContainerSpec.MAX_ENV_NAME)
  @ValidationRule(
      value = "self.matches('^[!-<>-~]+$')",
      message = "an env name must be printable ASCII without spaces or '='")
  private String name;

  @JsonPropertyDescription(
      "The variable's value (may be empty), at most "
          + ContainerSpec.MAX_ENV_VALUE
          + " characters, without NUL characters.")
  @Size(max = ContainerSpec.MAX_ENV_VALUE)
  @ValidationRule(
      value = "!self.contains('\\u0000')",
      message = "an env value must not contain NUL characters")
  private String value;

  public ContainerEnvVar() {}

  public ContainerEnvVar(String name, String value) {
    this.name = name;
    this.value = value;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getValue() {
    return value;
  }

  public void setValue(String value) {
    this.value = value;
  }
}
