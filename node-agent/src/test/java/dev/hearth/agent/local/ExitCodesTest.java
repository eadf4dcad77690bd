package dev.hearth.agent.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.devices.legacy.GuestExitPort;
import dev.hearth.vmm.vm.ExitReason;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** hearth run's exit status for a container is docker run's. */
class ExitCodesTest {
  private static Optional<GuestExitPort.Status> report(GuestExitPort.Kind kind, int code) {
    return Optional.of(new GuestExitPort.Status(kind, code));
  }

  @Test
  void aContainersReportIsItsExitStatus() {
    assertThat(ExitCodes.ofContainer(ExitReason.RESET, report(GuestExitPort.Kind.EXITED, 0)))
        .isZero();
    assertThat(ExitCodes.ofContainer(ExitReason.RESET, report(GuestExitPort.Kind.EXITED, 42)))
        .isEqualTo(42);
    assertThat(ExitCodes.ofContainer(ExitReason.RESET, report(GuestExitPort.Kind.SIGNALLED, 9)))
        .isEqualTo(137);
    assertThat(ExitCodes.ofContainer(ExitReason.RESET, report(GuestExitPort.Kind.NOT_STARTED, 127)))
        .isEqualTo(127);
  }

  @Test
  void aContainerThatNeverReportedFailed() {
    assertThat(ExitCodes.ofContainer(ExitReason.RESET, Optional.empty()))
        .isEqualTo(ExitCodes.GUEST_FAILED);
    assertThat(ExitCodes.ofContainer(ExitReason.VMM_ERROR, Optional.empty()))
        .isEqualTo(ExitCodes.of(ExitReason.VMM_ERROR));
  }
}
