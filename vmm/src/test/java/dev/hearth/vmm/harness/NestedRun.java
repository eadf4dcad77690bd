package dev.hearth.vmm.harness;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The result of one harness run.
 *
 * @param outcome how it ended; only {@link Outcome#JOB_EXIT} means the command completed
 * @param exitCode the command's exit code for {@link Outcome#JOB_EXIT}, else the script's status
 * @param reason the harness's one-line explanation of a failure, empty on {@link Outcome#JOB_EXIT}
 * @param lines everything printed, in the order received
 * @param timings seconds, as {@code run-in-l1.sh --result} reports them: {@code prepare_s} (cached
 *     builds), and from QEMU's start {@code l1_init_s}, {@code l1_kvm_s} (ready /dev/kvm), {@code
 *     job_start_s}, {@code job_end_s}, {@code total_s}
 * @param wall the whole run as the caller saw it, builds included
 */
public record NestedRun(
    Outcome outcome,
    int exitCode,
    String reason,
    List<OutputLine> lines,
    Map<String, Double> timings,
    Duration wall) {

  public NestedRun {
    lines = List.copyOf(lines);
    timings = Map.copyOf(timings);
  }

  /** True when the command ran and exited 0. */
  public boolean succeeded() {
    return outcome == Outcome.JOB_EXIT && exitCode == 0;
  }

  /** The command's standard output, one line each. */
  public List<String> stdout() {
    return text(OutputLine.Stream.STDOUT);
  }

  /** The command's standard error and the harness's own messages, one line each. */
  public List<String> stderr() {
    return text(OutputLine.Stream.STDERR);
  }

  /** The first stdout or stderr line containing {@code fragment}. */
  public Optional<OutputLine> firstLineContaining(String fragment) {
    return lines.stream().filter(l -> l.text().contains(fragment)).findFirst();
  }

  /** One of {@link #timings()}, if the run got that far. */
  public Optional<Double> timing(String name) {
    return Optional.ofNullable(timings.get(name));
  }

  /**
   * Returns this run when the command ran to completion (whatever its exit code), else throws: a
   * harness failure is a test failure.
   */
  public NestedRun requireJobExit() {
    if (outcome != Outcome.JOB_EXIT) {
      throw new NestedHarnessException(describe(), this);
    }
    return this;
  }

  /** A summary for failure messages: outcome, exit code, reason, timings and the last lines. */
  public String describe() {
    int from = Math.max(0, lines.size() - 40);
    String tail =
        lines.subList(from, lines.size()).stream()
            .map(OutputLine::toString)
            .collect(Collectors.joining("\n  "));
    return "nested-KVM harness run: "
        + outcome.resultName()
        + ", exit code "
        + exitCode
        + (reason.isEmpty() ? "" : ", " + reason)
        + ", timings "
        + timings
        + ", wall "
        + wall.toMillis()
        + " ms; last lines:\n  "
        + tail;
  }

  private List<String> text(OutputLine.Stream stream) {
    return lines.stream().filter(l -> l.stream() == stream).map(OutputLine::text).toList();
  }
}
