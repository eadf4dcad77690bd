package dev.hearth.vmm.harness;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.harness.LauncherFeed.Status;
import dev.hearth.vmm.harness.LauncherFeed.TestResult;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which failed reruns inside L1 earn one run more: only those that are all guest triple faults. */
class GuestFaultRerunTest {
  private static TestResult result(Status status, String detail) {
    return new TestResult("GuestIsolationKvmIT", "probe()", status, detail);
  }

  private static final TestResult FAULT =
      result(
          Status.FAILED,
          "no HEARTH-HOLD (VM status: guest exited: Crashed (vCPU 0 triple-faulted))");

  @Test
  void aRerunThatFailedOnlyOnGuestTripleFaultsGoesAgain() {
    assertThat(KvmSuiteInsideL1.onlyGuestFaults(List.of(FAULT, result(Status.SUCCESSFUL, ""))))
        .isTrue();
  }

  @Test
  void anyOtherFailureEndsIt() {
    assertThat(
            KvmSuiteInsideL1.onlyGuestFaults(
                List.of(FAULT, result(Status.FAILED, "expected: 2 but was: 1"))))
        .isFalse();
    assertThat(KvmSuiteInsideL1.onlyGuestFaults(List.of(result(Status.FAILED, null)))).isFalse();
  }

  @Test
  void noFailureNeedsNoRerun() {
    assertThat(KvmSuiteInsideL1.onlyGuestFaults(List.of(result(Status.SUCCESSFUL, "")))).isFalse();
  }
}
