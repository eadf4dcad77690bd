package dev.hearth.agent.runtime;

import dev.hearth.api.v1alpha1.HearthApi;
import java.util.Optional;

/**
 * Why a VM stopped. {@code reason} is CamelCase for the status (Shutdown, Reset, InternalError,
 * Stopped, ...; Completed, Error or ContainerCannotRun for a container); {@code success} says
 * whether restartPolicy OnFailure counts it as a failure.
 *
 * @param exitCode a container's exit code, as its init reported it (128 + the signal's number when
 *     a signal ended it)
 * @param signal the signal that ended a container
 */
public record GuestExit(
    String reason,
    String message,
    boolean success,
    Optional<Integer> exitCode,
    Optional<Integer> signal) {

  /** An exit without a container's report. */
  public GuestExit(String reason, String message, boolean success) {
    this(reason, message, success, Optional.empty(), Optional.empty());
  }

  /** A container that exited with {@code code}: Completed for 0, Error otherwise. */
  public static GuestExit containerExited(int code) {
    return code == 0
        ? new GuestExit(
            HearthApi.Reasons.COMPLETED,
            "the container exited with code 0",
            true,
            Optional.of(0),
            Optional.empty())
        : new GuestExit(
            HearthApi.Reasons.ERROR,
            "the container exited with code " + code,
            false,
            Optional.of(code),
            Optional.empty());
  }

  /** A container a signal ended: Error, with code 128 + the signal, as a shell reports it. */
  public static GuestExit containerSignalled(int signal) {
    return new GuestExit(
        HearthApi.Reasons.ERROR,
        "the container was ended by signal " + signal,
        false,
        Optional.of(128 + signal),
        Optional.of(signal));
  }

  /** A container the init could not start ({@code code}: 127 not found, 126 not runnable). */
  public static GuestExit containerNotStarted(int code) {
    return new GuestExit(
        HearthApi.Reasons.CONTAINER_CANNOT_RUN,
        "the guest init could not start the container (code " + code + "; the console says why)",
        false,
        Optional.of(code),
        Optional.empty());
  }

  /**
   * This exit for a container VM: a guest that ended without its init's report (a crash, a panic, a
   * reset of its own) failed, whatever the VMM's reason.
   */
  public GuestExit forContainer() {
    if (exitCode.isPresent() || !success) {
      return this;
    }
    return new GuestExit(
        reason,
        (message.isEmpty() ? "" : message + "; ") + "the container's exit was never reported",
        false,
        exitCode,
        signal);
  }
}
