package dev.hearth.vmm.harness;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.harness.LauncherTree.Status;
import dev.hearth.vmm.harness.LauncherTree.TestResult;
import java.util.List;
import org.junit.jupiter.api.Test;

class LauncherTreeTest {
  private static final List<String> OUTPUT =
      List.of(
          "╷",
          "├─ JUnit Platform Suite ✔",
          "├─ JUnit Jupiter ✔",
          "│  ├─ MicroVmKvmIT ✔",
          "│  │  ├─ pauseFreezesTheGuest() 28874 ms ✔",
          "│  │  ├─ probeSeesItsE820() ✘ expected: 2 but was: 1",
          "│  │  │     org.opentest4j.AssertionFailedError: expected: 2 but was: 1",
          "│  │  │       at dev.hearth.vmm.vm.MicroVmKvmIT.probe(MicroVmKvmIT.java:40)",
          "│  │  └─ helloPrints() ↷ needs KVM",
          "│  └─ TeardownKvmIT ✔",
          "│     └─ twoHundredVms() 66892 ms ✔",
          "└─ JUnit Vintage ✔",
          "",
          "[         4 tests found           ]",
          "[         2 tests successful      ]",
          "[         1 tests failed          ]");

  @Test
  void readsEachTestWithItsClassAndOutcome() {
    List<TestResult> results = LauncherTree.parse(OUTPUT);
    assertThat(results)
        .extracting(TestResult::displayName, TestResult::status)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(
                "MicroVmKvmIT.pauseFreezesTheGuest()", Status.PASSED),
            org.assertj.core.groups.Tuple.tuple("MicroVmKvmIT.probeSeesItsE820()", Status.FAILED),
            org.assertj.core.groups.Tuple.tuple("MicroVmKvmIT.helloPrints()", Status.SKIPPED),
            org.assertj.core.groups.Tuple.tuple("TeardownKvmIT.twoHundredVms()", Status.PASSED));
    assertThat(results.get(1).detail())
        .startsWith("expected: 2 but was: 1\norg.opentest4j.AssertionFailedError")
        .contains("MicroVmKvmIT.java:40");
  }

  @Test
  void readsTheSummaryCounts() {
    assertThat(LauncherTree.count(OUTPUT, "found")).contains(4);
    assertThat(LauncherTree.count(OUTPUT, "failed")).contains(1);
    assertThat(LauncherTree.count(List.of("nothing"), "found")).isEmpty();
  }
}
