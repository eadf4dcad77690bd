package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Why the guest last stopped. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("Why the guest last stopped.")
public class ExitStatus extends ApiValue {

  @JsonPropertyDescription(
      "CamelCase reason the guest last stopped, such as Shutdown, Reset, InternalError, BootFailed"
          + " or NodeLost; for a spec.container VM, Completed (exit code 0), Error (another"
          + " code or a signal) or ContainerCannotRun (the init could not start it).")
  private String reason;

  @JsonPropertyDescription("Human-readable detail about the exit.")
  private String message;

  @JsonPropertyDescription(
      "For a spec.container VM: the container's exit code, as the guest's init reported it"
          + " (128 + the signal's number when a signal ended it).")
  private Integer exitCode;

  @JsonPropertyDescription(
      "For a spec.container VM ended by a signal: the signal's number (9 for SIGKILL).")
  private Integer signal;

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

  public Integer getExitCode() {
    return exitCode;
  }

  public void setExitCode(Integer exitCode) {
    this.exitCode = exitCode;
  }

  public Integer getSignal() {
    return signal;
  }

  public void setSignal(Integer signal) {
    this.signal = signal;
  }
}
