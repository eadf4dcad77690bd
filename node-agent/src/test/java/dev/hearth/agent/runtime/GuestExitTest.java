package dev.hearth.agent.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.vmm.devices.legacy.GuestExitPort;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class GuestExitTest {
  @Test
  void theInitsReportBecomesTheExit() {
    GuestExit ok =
        VmmRunningVm.containerExit(new GuestExitPort.Status(GuestExitPort.Kind.EXITED, 0));
    assertThat(ok.success()).isTrue();
    assertThat(ok.reason()).isEqualTo(HearthApi.Reasons.COMPLETED);
    GuestExit three =
        VmmRunningVm.containerExit(new GuestExitPort.Status(GuestExitPort.Kind.EXITED, 3));
    assertThat(three.success()).isFalse();
    assertThat(three.reason()).isEqualTo(HearthApi.Reasons.ERROR);
    assertThat(three.exitCode()).contains(3);
    GuestExit killed =
        VmmRunningVm.containerExit(new GuestExitPort.Status(GuestExitPort.Kind.SIGNALLED, 15));
    assertThat(killed.exitCode()).contains(143);
    assertThat(killed.signal()).contains(15);
    GuestExit missing =
        VmmRunningVm.containerExit(new GuestExitPort.Status(GuestExitPort.Kind.NOT_STARTED, 127));
    assertThat(missing.reason()).isEqualTo(HearthApi.Reasons.CONTAINER_CANNOT_RUN);
    assertThat(missing.exitCode()).contains(127);
  }

  @Test
  void aContainerVmThatEndsWithoutAReportFailed() {
    GuestExit reset = new GuestExit("Reset", "the guest reset itself", true);
    assertThat(reset.forContainer().success()).isFalse();
    assertThat(reset.forContainer().message()).contains("never reported");
    assertThat(GuestExit.containerExited(0).forContainer().success()).isTrue();
    GuestExit crash = new GuestExit("Crashed", "triple fault", false);
    assertThat(crash.forContainer()).isEqualTo(crash);
    assertThat(reset.exitCode()).isEqualTo(Optional.empty());
  }
}
