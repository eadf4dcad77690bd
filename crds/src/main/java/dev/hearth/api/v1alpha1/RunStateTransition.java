package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The agent's last change of a VM's run state, and how long it took. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "The agent's last change of the VM's run state (pause, resume, suspend, restore), and how"
        + " long it took.")
public class RunStateTransition extends ApiValue {

  @JsonPropertyDescription("The run state before: Running, Paused or Suspended.")
  private RunState from;

  @JsonPropertyDescription("The run state after: Running, Paused or Suspended.")
  private RunState to;

  @JsonPropertyDescription(
      "Why: SpecChanged (spec.runState asked for it), AgentShutdown (the agent suspended the VM"
          + " to stop or upgrade) or AgentStarted (a new agent restored it).")
  private String reason;

  @JsonPropertyDescription("When the transition ended (RFC 3339).")
  private String time;

  @JsonPropertyDescription(
      "Milliseconds the transition itself took: pausing the vCPUs, writing the snapshot and freeing"
          + " the VM, or restoring it and starting its vCPUs.")
  private Long durationMillis;

  @JsonPropertyDescription(
      "On a transition to Running: milliseconds the guest did not run, from the moment its vCPUs"
          + " stopped (pause or suspend) until they ran again.")
  private Long pausedMillis;

  public RunStateTransition() {}

  public RunStateTransition(
      RunState from,
      RunState to,
      String reason,
      String time,
      Long durationMillis,
      Long pausedMillis) {
    this.from = from;
    this.to = to;
    this.reason = reason;
    this.time = time;
    this.durationMillis = durationMillis;
    this.pausedMillis = pausedMillis;
  }

  public RunState getFrom() {
    return from;
  }

  public void setFrom(RunState from) {
    this.from = from;
  }

  public RunState getTo() {
    return to;
  }

  public void setTo(RunState to) {
    this.to = to;
  }

  public String getReason() {
    return reason;
  }

  public void setReason(String reason) {
    this.reason = reason;
  }

  public String getTime() {
    return time;
  }

  public void setTime(String time) {
    this.time = time;
  }

  public Long getDurationMillis() {
    return durationMillis;
  }

  public void setDurationMillis(Long durationMillis) {
    this.durationMillis = durationMillis;
  }

  public Long getPausedMillis() {
    return pausedMillis;
  }

  public void setPausedMillis(Long pausedMillis) {
    this.pausedMillis = pausedMillis;
  }
}
