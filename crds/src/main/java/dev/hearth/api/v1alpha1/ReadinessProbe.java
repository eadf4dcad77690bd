package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * When a running VM counts as Ready, and so is an endpoint of the Services that select it: the node
 * agent connects to a TCP port of the guest, as the kubelet runs a Pod's readiness probe.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "When a running VM is Ready, and so an endpoint of the Services that select it: the node"
        + " agent connects to a TCP port of the guest every periodSeconds, as the kubelet runs a"
        + " Pod's readiness probe. Without it, a VM is Ready while its guest runs.")
@ValidationRule(
    value =
        "(has(self.timeoutSeconds) ? self.timeoutSeconds : 1)"
            + " <= (has(self.periodSeconds) ? self.periodSeconds : 10)",
    message = "timeoutSeconds must not exceed periodSeconds: one check ends before the next",
    fieldPath = ".timeoutSeconds")
public class ReadinessProbe extends ApiValue {
  @JsonPropertyDescription("The guest's TCP port that must accept a connection.")
  @Required
  private TcpSocketProbe tcpSocket;

  @JsonPropertyDescription(
      "Seconds after the guest starts before the first check, 0 to 3600 (default 0).")
  @ValidationRule(
      value = "self >= 0 && self <= 3600",
      message = "initialDelaySeconds must be from 0 to 3600")
  private Integer initialDelaySeconds;

  @JsonPropertyDescription("Seconds between two checks, 1 to 3600 (default 10).")
  @ValidationRule(
      value = "self >= 1 && self <= 3600",
      message = "periodSeconds must be from 1 to 3600")
  private Integer periodSeconds;

  @JsonPropertyDescription(
      "Seconds a connection attempt may take before it counts as failed, 1 to 60 (default 1).")
  @ValidationRule(
      value = "self >= 1 && self <= 60",
      message = "timeoutSeconds must be from 1 to 60")
  private Integer timeoutSeconds;

  @JsonPropertyDescription(
      "Failed checks in a row that make a Ready VM unready, 1 to 100 (default 3).")
  @ValidationRule(
      value = "self >= 1 && self <= 100",
      message = "failureThreshold must be from 1 to 100")
  private Integer failureThreshold;

  @JsonPropertyDescription(
      "Successful checks in a row that make an unready VM Ready, 1 to 100 (default 1).")
  @ValidationRule(
      value = "self >= 1 && self <= 100",
      message = "successThreshold must be from 1 to 100")
  private Integer successThreshold;

  public ReadinessProbe() {}

  public ReadinessProbe(TcpSocketProbe tcpSocket) {
    this.tcpSocket = tcpSocket;
  }

  public TcpSocketProbe getTcpSocket() {
    return tcpSocket;
  }

  public void setTcpSocket(TcpSocketProbe tcpSocket) {
    this.tcpSocket = tcpSocket;
  }

  public Integer getInitialDelaySeconds() {
    return initialDelaySeconds;
  }

  public void setInitialDelaySeconds(Integer initialDelaySeconds) {
    this.initialDelaySeconds = initialDelaySeconds;
  }

  public Integer getPeriodSeconds() {
    return periodSeconds;
  }

  public void setPeriodSeconds(Integer periodSeconds) {
    this.periodSeconds = periodSeconds;
  }

  public Integer getTimeoutSeconds() {
    return timeoutSeconds;
  }

  public void setTimeoutSeconds(Integer timeoutSeconds) {
    this.timeoutSeconds = timeoutSeconds;
  }

  public Integer getFailureThreshold() {
    return failureThreshold;
  }

  public void setFailureThreshold(Integer failureThreshold) {
    this.failureThreshold = failureThreshold;
  }

  public Integer getSuccessThreshold() {
    return successThreshold;
  }

  public void setSuccessThreshold(Integer successThreshold) {
    this.successThreshold = successThreshold;
  }
}
