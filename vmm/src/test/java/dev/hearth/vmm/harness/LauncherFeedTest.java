package dev.hearth.vmm.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.hearth.vmm.harness.LauncherFeed.Status;
import dev.hearth.vmm.harness.LauncherFeed.TestResult;
import java.util.List;
import org.junit.jupiter.api.Test;

class LauncherFeedTest {
  private static final List<String> OUTPUT =
      List.of(
          "JUnit Jupiter > MicroVmKvmIT > hello() :: STARTED",
          "some log line from the test",
          "JUnit Jupiter > MicroVmKvmIT > hello() :: SUCCESSFUL",
          "JUnit Jupiter > MicroVmKvmIT > probe(String) :: STARTED",
          "JUnit Jupiter > MicroVmKvmIT > probe(String) :: FAILED",
          "\torg.opentest4j.AssertionFailedError: expected: 2 but was: 1",
          "\t\tat dev.hearth.vmm.vm.MicroVmKvmIT.probe(MicroVmKvmIT.java:40)",
          "JUnit Jupiter > MicroVmKvmIT > skipped() :: ABORTED",
          "\torg.opentest4j.TestAbortedException: needs KVM",
          "JUnit Jupiter > ExamplesKvmIT > boots(Example) > linux.yaml :: STARTED",
          "JUnit Jupiter > ExamplesKvmIT > boots(Example) > linux.yaml :: SUCCESSFUL",
          "JUnit Jupiter > TeardownKvmIT > twoHundredVms() :: STARTED");

  @Test
  void readsEachFinishedTestWithItsClassOutcomeAndDetail() {
    List<TestResult> results = LauncherFeed.parse(OUTPUT);
    assertThat(results)
        .extracting(TestResult::displayName, TestResult::status)
        .containsExactly(
            tuple("MicroVmKvmIT.hello()", Status.SUCCESSFUL),
            tuple("MicroVmKvmIT.probe(String)", Status.FAILED),
            tuple("MicroVmKvmIT.skipped()", Status.ABORTED),
            tuple("ExamplesKvmIT.boots(Example) > linux.yaml", Status.SUCCESSFUL));
    assertThat(results.get(1).detail())
        .isEqualTo(
            "org.opentest4j.AssertionFailedError: expected: 2 but was: 1\n"
                + "at dev.hearth.vmm.vm.MicroVmKvmIT.probe(MicroVmKvmIT.java:40)");
  }

  @Test
  void namesTheTestsThatNeverFinished() {
    assertThat(LauncherFeed.unfinished(OUTPUT)).containsExactly("TeardownKvmIT.twoHundredVms()");
  }

  @Test
  void theClassesToRunAgainAreThoseWithAFailedTestAndTheirPatternSelectsOnlyThem() {
    List<String> failed = LauncherFeed.failedContainers(LauncherFeed.parse(OUTPUT));
    assertThat(failed).containsExactly("MicroVmKvmIT");

    String pattern = LauncherFeed.classNamePattern(List.of("GuestNetworkKvmIT", "MicroVmKvmIT"));
    assertThat("dev.hearth.vmm.vm.MicroVmKvmIT").matches(pattern);
    assertThat("dev.hearth.e2e.system.GuestNetworkKvmIT").matches(pattern);
    assertThat("dev.hearth.vmm.vm.OtherMicroVmKvmIT").doesNotMatch(pattern);
    assertThat("dev.hearth.vmm.vm.MicroVmKvmITx").doesNotMatch(pattern);
    assertThat("dev.hearth.vmm.vm.ExamplesKvmIT").doesNotMatch(pattern);
  }
}
