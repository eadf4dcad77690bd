package dev.hearth.vmm.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runner's process handling and classification, against a stand-in for run-in-l1.sh. */
class NestedKvmTest {
  // Speaks run-in-l1.sh's protocol: stamped lines, a --result file, its exit codes.
  private static final String FAKE_SCRIPT =
      """
      #!/usr/bin/env bash
      result=""
      while [ $# -gt 0 ]; do
        case "$1" in --result) result=$2; shift ;; --) shift; break ;; esac
        shift
      done
      echo "args: $*" >&2
      case "$1" in
        ok)
          echo "[+   1.250s] hello from L1"
          echo "[+   1.300s] a warning" >&2
          printf 'outcome=job-exit\\nexit_code=3\\nl1_kvm_s=6.5\\ntotal_s=9.25\\n' >"$result"
          exit 3 ;;
        nokvm)
          echo "run-in-l1: FAILED no-kvm: /dev/kvm did not appear in L1: no svm" >&2
          printf 'outcome=no-kvm\\nexit_code=121\\n' >"$result"
          exit 121 ;;
        noresult) exit 7 ;;
        hang) sleep 617 ;;
        quiet)
          echo "building, unstamped"
          sleep 3
          echo "[+   1.000s] the job started"
          sleep 618 ;;
      esac
      """;

  @TempDir Path dir;
  private Path script;
  private final List<OutputLine> streamed = new CopyOnWriteArrayList<>();

  @BeforeEach
  void writeFakeScript() throws IOException {
    script = dir.resolve("run-in-l1.sh");
    Files.writeString(script, FAKE_SCRIPT);
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
  }

  private NestedKvm harness(Duration allowance) {
    return new NestedKvm(script, allowance, streamed::add);
  }

  @Test
  void streamsStampedLinesAndReturnsTheJobsExitCode() throws Exception {
    NestedRun run = harness(Duration.ofMinutes(1)).run(NestedJob.of("ok"));

    assertThat(run.outcome()).isEqualTo(Outcome.JOB_EXIT);
    assertThat(run.exitCode()).isEqualTo(3);
    assertThat(run.succeeded()).isFalse();
    assertThat(run.stdout()).containsExactly("hello from L1");
    assertThat(run.stderr()).contains("a warning");
    assertThat(run.firstLineContaining("hello").orElseThrow().at())
        .isEqualTo(Duration.ofMillis(1250));
    assertThat(run.timing("l1_kvm_s")).contains(6.5);
    assertThat(run.timing("total_s")).contains(9.25);
    assertThat(streamed).extracting(OutputLine::text).contains("hello from L1", "a warning");
    assertThat(run.requireJobExit()).isSameAs(run);
  }

  @Test
  void aHarnessFailureCarriesItsOutcomeAndReason() throws Exception {
    NestedRun run = harness(Duration.ofMinutes(1)).run(NestedJob.of("nokvm"));

    assertThat(run.outcome()).isEqualTo(Outcome.NO_KVM);
    assertThat(run.reason()).contains("/dev/kvm did not appear");
    assertThatThrownBy(run::requireJobExit)
        .isInstanceOf(NestedHarnessException.class)
        .hasMessageContaining("no-kvm")
        .hasMessageContaining("no svm");
  }

  @Test
  void aScriptThatDiesWithoutAResultIsASetupError() throws Exception {
    NestedRun run = harness(Duration.ofMinutes(1)).run(NestedJob.of("noresult"));

    assertThat(run.outcome()).isEqualTo(Outcome.SETUP_ERROR);
    assertThat(run.exitCode()).isEqualTo(7);
    assertThat(run.reason()).contains("status 7");
  }

  @Test
  void aHungHarnessIsStoppedWithItsChildrenAndReportedAsTimeout() throws Exception {
    NestedJob job =
        NestedJob.of("hang")
            .withTimeout(Duration.ofSeconds(1))
            .withBootTimeout(Duration.ofSeconds(1));
    long start = System.nanoTime();

    NestedRun run = harness(Duration.ZERO).run(job);

    assertThat(run.outcome()).isEqualTo(Outcome.TIMEOUT);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
    assertThat(
            ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").endsWith("sleep 617")))
        .isEmpty();
  }

  @Test
  void aJobThatGoesQuietIsStoppedLongBeforeItsTimeLimit() throws Exception {
    long start = System.nanoTime();

    NestedRun run =
        harness(Duration.ZERO).withQuietLimit(Duration.ofSeconds(2)).run(NestedJob.of("quiet"));

    // The 3 s of unstamped build output before the job's first line do not count as quiet.
    assertThat(run.outcome()).isEqualTo(Outcome.TIMEOUT);
    assertThat(run.describe()).contains("printed nothing for 2 s");
    assertThat(run.stdout()).contains("the job started");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
    assertThat(
            ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").endsWith("sleep 618")))
        .isEmpty();
  }

  @Test
  void passesTheJobToTheScript() {
    NestedJob job =
        NestedJob.of("java", "-version")
            .withAdd(Path.of("/opt/a.jar"))
            .withGuest()
            .withEnv("B", "2")
            .withEnv("A", "1")
            .withCwd(Path.of("/opt"))
            .withCpus(1)
            .withNet()
            .withTimeout(Duration.ofSeconds(90));

    assertThat(job.scriptArguments(Path.of("/tmp/r")))
        .containsExactly(
            "--timeout",
            "90",
            "--boot-timeout",
            "120",
            "--cpus",
            "1",
            "--result",
            "/tmp/r",
            "--add",
            "/opt/a.jar",
            "--with-guest",
            "--env",
            "A=1",
            "--env",
            "B=2",
            "--cwd",
            "/opt",
            "--net",
            "--",
            "java",
            "-version");
  }

  @Test
  void rejectsJobsThatCannotRun() {
    assertThatThrownBy(() -> NestedJob.of()).hasMessageContaining("needs a command");
    assertThat(NestedJob.of("x").withAdd(Path.of("relative")).adds().getFirst()).isAbsolute();
    assertThatThrownBy(() -> NestedJob.of("x").withCpus(0)).hasMessageContaining("at least 1");
  }

  @Test
  void parsesStampedAndUnstampedLines() {
    assertThat(OutputLine.parse("[+  12.345s] text [x]", OutputLine.Stream.STDOUT, Duration.ZERO))
        .isEqualTo(new OutputLine(Duration.ofMillis(12345), OutputLine.Stream.STDOUT, "text [x]"));
    assertThat(
            OutputLine.parse(
                "[09:20:39 run-in-l1] building", OutputLine.Stream.STDERR, Duration.ofSeconds(2)))
        .isEqualTo(
            new OutputLine(
                Duration.ofSeconds(2), OutputLine.Stream.STDERR, "[09:20:39 run-in-l1] building"));
  }
}
