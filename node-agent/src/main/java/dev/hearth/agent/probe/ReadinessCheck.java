package dev.hearth.agent.probe;

import dev.hearth.api.v1alpha1.ReadinessProbe;
import java.time.Duration;

/**
 * A spec's readiness probe, checked and with its defaults (those of a Pod's probe, but a timeout of
 * 1 s): connect to {@code port} every {@code period}, each attempt bounded by {@code timeout}.
 */
public record ReadinessCheck(
    int port,
    Duration initialDelay,
    Duration period,
    Duration timeout,
    int failureThreshold,
    int successThreshold) {

  /**
   * The check {@code probe} asks for, or null when there is none. The CRD validates the same
   * bounds; they are checked again since the spec is tenant input.
   */
  public static ReadinessCheck from(ReadinessProbe probe) throws ProbeException {
    if (probe == null) {
      return null;
    }
    if (probe.getTcpSocket() == null || probe.getTcpSocket().getPort() == null) {
      throw new ProbeException("spec.readinessProbe.tcpSocket.port is required");
    }
    int port = probe.getTcpSocket().getPort();
    check("tcpSocket.port", port, 1, 65535);
    int delay = orDefault(probe.getInitialDelaySeconds(), 0);
    check("initialDelaySeconds", delay, 0, 3600);
    int period = orDefault(probe.getPeriodSeconds(), 10);
    check("periodSeconds", period, 1, 3600);
    int timeout = orDefault(probe.getTimeoutSeconds(), 1);
    check("timeoutSeconds", timeout, 1, Math.min(60, period));
    int failures = orDefault(probe.getFailureThreshold(), 3);
    check("failureThreshold", failures, 1, 100);
    int successes = orDefault(probe.getSuccessThreshold(), 1);
    check("successThreshold", successes, 1, 100);
    return new ReadinessCheck(
        port,
        Duration.ofSeconds(delay),
        Duration.ofSeconds(period),
        Duration.ofSeconds(timeout),
        failures,
        successes);
  }

  private static int orDefault(Integer value, int fallback) {
    return value == null ? fallback : value;
  }

  private static void check(String field, int value, int min, int max) throws ProbeException {
    if (value < min || value > max) {
      throw new ProbeException(
          "spec.readinessProbe." + field + " " + value + " is outside " + min + ".." + max);
    }
  }
}
