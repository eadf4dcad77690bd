package dev.hearth.vmm.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.hearth.vmm.harness.LauncherTree.Status;
import dev.hearth.vmm.harness.LauncherTree.TestResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.opentest4j.TestAbortedException;

/**
 * Runs a module's {@code *KvmIT} classes inside L1, for a host without a {@code /dev/kvm} of its
 * own, and reports each of them on the host as a dynamic test. The build routes them here (the
 * {@code nested-kvm} profile, active when {@code /dev/kvm} is missing), so they are never skipped:
 * a harness failure fails the suite, and so does a run in which no test ran.
 */
public final class KvmSuiteInsideL1 {
  private static final String INCLUDE = ".*KvmIT";
  // Tests that drive the harness from the host; inside L1 they would nest a third level.
  private static final String EXCLUDE = "dev\\.hearth\\.vmm\\.harness\\..*";

  private KvmSuiteInsideL1() {}

  /**
   * Runs the suite under {@code testClasses}, adding {@code extraPaths} (test guests, say) to L1,
   * and returns one dynamic test per test that ran there, plus one for the run as a whole.
   */
  public static Stream<DynamicTest> run(Path testClasses, List<Path> extraPaths, Duration limit)
      throws Exception {
    if (!Files.isDirectory(testClasses)) {
      throw new AssertionError("no test classes at " + testClasses.toAbsolutePath());
    }
    NestedJob job = NestedJob.of("suite").withTimeout(limit);
    for (Path p : extraPaths) {
      job = job.withAdd(p.toAbsolutePath().normalize());
    }
    String ci = System.getenv("CI");
    if (ci != null) {
      job = job.withEnv("CI", ci);
    }
    NestedRun run = NestedKvm.locate().runJUnitSuite(testClasses, INCLUDE, EXCLUDE, job);
    List<String> out = run.stdout();
    List<TestResult> results = LauncherTree.parse(out);

    List<DynamicTest> tests = new ArrayList<>();
    for (TestResult r : results) {
      tests.add(DynamicTest.dynamicTest(r.displayName() + " [inside L1]", () -> report(r)));
    }
    tests.add(
        DynamicTest.dynamicTest(
            "the suite ran inside L1 and passed",
            () -> {
              assertThat(run.outcome()).as(run::describe).isEqualTo(Outcome.JOB_EXIT);
              assertThat(LauncherTree.count(out, "found"))
                  .as("tests found inside L1; %s", run.describe())
                  .hasValueSatisfying(n -> assertThat(n).isPositive());
              assertThat(results).as("per-test results parsed from the launcher").isNotEmpty();
              assertThat(run.exitCode()).as(run::describe).isZero();
            }));
    return tests.stream();
  }

  private static void report(TestResult r) {
    if (r.status() == Status.FAILED) {
      fail("failed inside L1: " + r.detail());
    }
    if (r.status() == Status.SKIPPED) {
      throw new TestAbortedException("skipped inside L1: " + r.detail());
    }
  }
}
