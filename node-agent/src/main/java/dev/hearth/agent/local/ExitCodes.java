package dev.hearth.agent.local;

import dev.hearth.vmm.devices.legacy.GuestExitPort;
import dev.hearth.vmm.vm.ExitReason;
import java.util.Optional;

/** The exit status of {@code hearth run} for each way a guest can end. */
public final class ExitCodes {
  /** The guest crashed or KVM could not emulate one of its instructions. */
  public static final int GUEST_FAILED = 1;

  /** The VMM itself failed. */
  public static final int VMM_FAILED = 4;

  private ExitCodes() {}

  /**
   * A container's status, as {@code docker run} gives it: its exit code, 128 + the signal that
   * ended it, the init's code when it could not start it (127 not found, 126 not runnable, 125 its
   * own failure); {@link #GUEST_FAILED} when the guest ended without reporting.
   */
  public static int ofContainer(ExitReason reason, Optional<GuestExitPort.Status> report) {
    if (report.isEmpty()) {
      int status = of(reason);
      return status == 0 ? GUEST_FAILED : status;
    }
    GuestExitPort.Status r = report.get();
    return r.kind() == GuestExitPort.Kind.SIGNALLED ? 128 + r.code() : r.code();
  }

  /** A line for the report. */
  public static String describe(GuestExitPort.Status r) {
    return switch (r.kind()) {
      case EXITED -> "the container exited with code " + r.code();
      case SIGNALLED -> "the container was ended by signal " + r.code();
      case NOT_STARTED -> "the guest init could not start the container (code " + r.code() + ")";
    };
  }

  /** 0 when the guest ended on its own terms; otherwise a status saying who failed. */
  public static int of(ExitReason reason) {
    return switch (reason) {
      case RESET, SHUTDOWN, HALTED -> 0;
      case CRASHED, EMULATION_FAILURE -> GUEST_FAILED;
      case STOPPED -> LocalRunner.STOPPED;
      case VMM_ERROR -> VMM_FAILED;
    };
  }
}
