package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Why the guest last stopped. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("Why the guest last stopped.")
public class ExitStatus extends ApiValue {

  @JsonPropertyDescription(
      "CamelCase reason the guest last stopped, such as Shutdown, Reset, InternalError, BootFailed or NodeLost.")
  private String reason;

  @JsonPropertyDescription("Human-readable detail about the exit.")
  private String message;

  public ExitStatus() {}

  public ExitStatus(String reason, String message) {
    this.reason = reason;
    this.message = message;
  }

  public String getReason() {
    return reason;
  }

  public void setReason(String reason) {
    this.reason = reason;
  }

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }
}
