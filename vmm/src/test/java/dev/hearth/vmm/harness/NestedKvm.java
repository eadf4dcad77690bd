package dev.hearth.vmm.harness;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Runs commands inside L1, the nested-KVM machine of {@code vmm/guest/nested/run-in-l1.sh}: QEMU in
 * software emulation with an AMD-V CPU, whose Debian kernel's {@code kvm_amd} provides a {@code
 * /dev/kvm} that boots real Linux guests, which this host's own KVM cannot.
 *
 * <p>The script does the work (cached builds, QEMU, the console protocol); this class starts it,
 * streams the command's lines to a listener as they arrive, enforces an outer time limit, and
 * classifies the result. Typical use, running a JUnit class inside L1 against this JVM's class
 * path:
 *
 * <pre>{@code
 * NestedRun run = NestedKvm.locate().runJUnit(SomeLinuxBootCheck.class, NestedJob.of("unused").withGuest());
 * assertThat(run.requireJobExit().exitCode()).isZero();
 * }</pre>
 */
public final class NestedKvm {
  /** System property naming the script; otherwise it is looked up from the working directory. */
  public static final String SCRIPT_PROPERTY = "hearth.nested.script";

  private static final String SCRIPT_IN_REPO = "vmm/guest/nested/run-in-l1.sh";
  private static final Duration TERM_GRACE = Duration.ofSeconds(5);
  // Printed to stderr from inside L1 every few seconds while a JUnit job runs, so that a quiet
  // limit tells a stalled L1 (no heartbeat) from a slow test (heartbeat, no test output).
  static final String HEARTBEAT = "hearth-l1-alive";
  private static final String WITH_HEARTBEAT =
      "(while :; do sleep 15 </dev/null >/dev/null 2>&1; echo "
          + HEARTBEAT
          + " >&2; done) & hb=$!; \"$@\"; rc=$?; kill $hb 2>/dev/null; exit $rc";

  private final Path script;
  private final Duration prepareAllowance;
  private final Consumer<OutputLine> listener;
  private final Duration quietLimit;

  /**
   * @param script {@code run-in-l1.sh}, or a program that speaks its protocol
   * @param prepareAllowance time allowed for cached builds before L1 starts and for stopping, on
   *     top of a job's own limits (a cold build of the L1 files takes minutes)
   * @param listener receives each line as it arrives
   */
  public NestedKvm(Path script, Duration prepareAllowance, Consumer<OutputLine> listener) {
    this(script, prepareAllowance, listener, Duration.ZERO);
  }

  private NestedKvm(
      Path script, Duration prepareAllowance, Consumer<OutputLine> listener, Duration quietLimit) {
    this.script = script;
    this.prepareAllowance = prepareAllowance;
    this.listener = listener;
    this.quietLimit = quietLimit;
  }

  /**
   * The harness of this checkout: the script named by {@value #SCRIPT_PROPERTY}, else {@code
   * vmm/guest/nested/run-in-l1.sh} in the working directory or a parent of it. Lines are echoed to
   * this JVM's stdout and stderr.
   */
  public static NestedKvm locate() {
    String configured = System.getProperty(SCRIPT_PROPERTY);
    Path found = configured != null ? Path.of(configured) : findInParents(Path.of(""));
    if (!Files.isExecutable(found)) {
      throw new NestedHarnessException(
          "nested-KVM harness script " + found + " is missing or not executable", (NestedRun) null);
    }
    return new NestedKvm(found, Duration.ofMinutes(30), NestedKvm::echo);
  }

  private static Path findInParents(Path start) {
    for (Path dir = start.toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve(SCRIPT_IN_REPO);
      if (Files.exists(candidate)) {
        return candidate;
      }
    }
    return start.toAbsolutePath().resolve(SCRIPT_IN_REPO);
  }

  private static void echo(OutputLine line) {
    (line.stream() == OutputLine.Stream.STDERR ? System.err : System.out).println(line);
  }

  /** The directory of the harness's scripts ({@code vmm/guest/nested}). */
  public Path scriptDirectory() {
    return script.toAbsolutePath().getParent();
  }

  /** The same harness with another listener. */
  public NestedKvm withListener(Consumer<OutputLine> other) {
    return new NestedKvm(script, prepareAllowance, other, quietLimit);
  }

  /**
   * The same harness, stopping a run (outcome {@link Outcome#TIMEOUT}) once the job inside L1 has
   * printed something and then nothing more for {@code limit}. A stalled L1 prints nothing at all,
   * so this ends it in minutes instead of at the job's whole time limit. {@link Duration#ZERO}
   * turns it off.
   */
  public NestedKvm withQuietLimit(Duration limit) {
    return new NestedKvm(script, prepareAllowance, listener, limit);
  }

  /**
   * Runs {@code job} inside L1 and waits for it. Never throws for a failed run: see the outcome.
   */
  public NestedRun run(NestedJob job) throws IOException, InterruptedException {
    Path result = Files.createTempFile("hearth-nested-", ".result");
    try {
      return run(job, result);
    } finally {
      Files.deleteIfExists(result);
    }
  }

  /**
   * Runs the JUnit class {@code testClass} inside L1 with JDK 25 and this JVM's test class path
   * (every entry is added to L1), through the JUnit console launcher. The job's command is
   * replaced; its other settings (guest, limits, environment) are kept. Exit code 0 means all tests
   * passed, 1 that some failed, 2 that none ran.
   */
  public NestedRun runJUnit(Class<?> testClass, NestedJob settings)
      throws IOException, InterruptedException {
    return runConsoleLauncher(List.of("--select-class=" + testClass.getName()), settings);
  }

  /**
   * Like {@link #runJUnit}, for every test class under {@code testClasses} whose name matches
   * {@code include} and not {@code exclude}, leaving out tests tagged {@code excludeTag} and, when
   * {@code includeTag} is given, keeping only tests tagged so: one L1 boot for a whole suite.
   */
  public NestedRun runJUnitSuite(
      Path testClasses,
      String include,
      String exclude,
      Optional<String> includeTag,
      String excludeTag,
      NestedJob settings)
      throws IOException, InterruptedException {
    List<String> selectors = new ArrayList<>();
    selectors.add("--scan-class-path=" + testClasses.toAbsolutePath().normalize());
    selectors.add("--include-classname=" + include);
    selectors.add("--exclude-classname=" + exclude);
    includeTag.ifPresent(tag -> selectors.add("--include-tag=" + tag));
    selectors.add("--exclude-tag=" + excludeTag);
    return runConsoleLauncher(selectors, settings);
  }

  private NestedRun runConsoleLauncher(List<String> selectors, NestedJob settings)
      throws IOException, InterruptedException {
    List<Path> classPath = testClassPath();
    List<String> command = new ArrayList<>(List.of("sh", "-c", WITH_HEARTBEAT, "junit-job"));
    command.add("java");
    command.add("--enable-native-access=ALL-UNNAMED");
    // L1 runs under software emulation: C1 alone warms up far sooner than C2 there.
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-XX:+UseSerialGC");
    command.addAll(forwardedProperties());
    command.add("-cp");
    command.add(String.join(File.pathSeparator, classPath.stream().map(Path::toString).toList()));
    command.add("org.junit.platform.console.ConsoleLauncher");
    command.add("execute");
    command.add("--disable-banner");
    command.add("--disable-ansi-colors");
    command.add("--details=testfeed");
    command.add("--fail-if-no-tests");
    command.addAll(selectors);
    NestedJob job =
        new NestedJob(
                command,
                settings.adds(),
                settings.guest(),
                settings.timeout(),
                settings.bootTimeout(),
                settings.env(),
                settings.cwd(),
                settings.cpus(),
                settings.net())
            .withAdds(classPath);
    return run(job);
  }

  /**
   * The {@code hearth.*} system properties the build gave this JVM (where the test guests are, for
   * one), as {@code -D} flags for the JVM inside L1; the paths they name are added there too.
   */
  private static List<String> forwardedProperties() {
    List<String> flags = new ArrayList<>();
    for (String name : System.getProperties().stringPropertyNames()) {
      if (name.startsWith("hearth.") && !name.equals(SCRIPT_PROPERTY)) {
        flags.add("-D" + name + "=" + System.getProperty(name));
      }
    }
    flags.sort(null);
    return flags;
  }

  /**
   * This JVM's test class path: Surefire and Failsafe run tests through a manifest-only jar and
   * publish the real class path as {@code surefire.test.class.path}.
   */
  static List<Path> testClassPath() {
    String cp =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Set<Path> entries = new LinkedHashSet<>();
    for (String entry : cp.split(File.pathSeparator)) {
      if (!entry.isBlank() && Files.exists(Path.of(entry))) {
        entries.add(Path.of(entry).toAbsolutePath().normalize());
      }
    }
    return List.copyOf(entries);
  }

  private NestedRun run(NestedJob job, Path result) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(script.toString());
    command.addAll(job.scriptArguments(result));
    long startNanos = System.nanoTime();
    Process process;
    try {
      process =
          new ProcessBuilder(command)
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .start();
    } catch (IOException e) {
      throw new NestedHarnessException("cannot start the nested-KVM harness " + script, e);
    }
    List<OutputLine> lines = new ArrayList<>();
    JobActivity activity = new JobActivity();
    Thread out =
        pump(process.getInputStream(), OutputLine.Stream.STDOUT, lines, activity, startNanos);
    Thread err =
        pump(process.getErrorStream(), OutputLine.Stream.STDERR, lines, activity, startNanos);
    Duration limit = prepareAllowance.plus(job.timeout()).plus(job.bootTimeout());
    String stopped = waitWithin(process, limit, activity);
    boolean finished = stopped == null;
    if (!finished) {
      stop(process);
    }
    out.join();
    err.join();
    Duration wall = Duration.ofNanos(System.nanoTime() - startNanos);
    List<OutputLine> seen;
    synchronized (lines) {
      seen = List.copyOf(lines);
    }
    if (!finished) {
      return new NestedRun(Outcome.TIMEOUT, -1, stopped, seen, Map.of(), wall);
    }
    return classify(process.exitValue(), result, seen, wall);
  }

  /** When the job inside L1 last printed a line; zero until its first one. */
  private static final class JobActivity {
    private volatile long lastLineNanos;

    void lineAt(long nanos) {
      lastLineNanos = nanos;
    }

    long lastLineNanos() {
      return lastLineNanos;
    }
  }

  /**
   * Waits for the script to end; returns null if it did, else why it must be stopped: the overall
   * limit ran out, or the job went quiet for longer than the quiet limit.
   */
  private String waitWithin(Process process, Duration limit, JobActivity activity)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    long poll = TimeUnit.SECONDS.toNanos(2);
    while (true) {
      long now = System.nanoTime();
      if (now - deadline >= 0) {
        return "the harness did not finish within " + limit.toSeconds() + " s and was stopped";
      }
      long last = activity.lastLineNanos();
      if (!quietLimit.isZero() && last != 0 && now - last > quietLimit.toNanos()) {
        return "the job inside L1 printed nothing for "
            + quietLimit.toSeconds()
            + " s (L1 stalled, or a test hangs) and was stopped";
      }
      if (process.waitFor(Math.min(poll, deadline - now), TimeUnit.NANOSECONDS)) {
        return null;
      }
    }
  }

  /** Ends the script: SIGTERM first, so it stops QEMU and cleans up, then SIGKILL for all. */
  private static void stop(Process process) throws InterruptedException {
    List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
    process.destroy();
    if (!process.waitFor(TERM_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
    }
    tree.forEach(ProcessHandle::destroyForcibly);
    process.waitFor();
    // SIGKILL lands when the kernel gets to it: a run that returns leaves none of them behind.
    for (ProcessHandle p : tree) {
      try {
        p.onExit().get(TERM_GRACE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException | TimeoutException e) {
        // Still there: the tests that look for leftovers will say so.
      }
    }
  }

  private Thread pump(
      InputStream stream,
      OutputLine.Stream kind,
      List<OutputLine> lines,
      JobActivity activity,
      long startNanos) {
    return Thread.ofVirtual()
        .name("nested-kvm-" + kind.name().toLowerCase())
        .start(
            () -> {
              try (BufferedReader reader =
                  new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String raw;
                while ((raw = reader.readLine()) != null) {
                  if (OutputLine.isFromJob(raw)) {
                    activity.lineAt(System.nanoTime());
                  }
                  if (raw.endsWith("] " + HEARTBEAT)) {
                    continue;
                  }
                  OutputLine line =
                      OutputLine.parse(raw, kind, Duration.ofNanos(System.nanoTime() - startNanos));
                  synchronized (lines) {
                    lines.add(line);
                  }
                  listener.accept(line);
                }
              } catch (IOException e) {
                // The pipe closes under the reader when a stalled or overdue run is stopped; the
                // lines read so far are kept and the run's outcome says why it ended.
                synchronized (lines) {
                  lines.add(
                      new OutputLine(
                          Duration.ofNanos(System.nanoTime() - startNanos),
                          kind,
                          "(the harness's " + kind + " closed: " + e.getMessage() + ")"));
                }
              }
            });
  }

  /** Reads the script's result file; without one, the script failed before it could write it. */
  static NestedRun classify(int status, Path result, List<OutputLine> lines, Duration wall)
      throws IOException {
    Map<String, String> values = new HashMap<>();
    if (Files.exists(result)) {
      for (String line : Files.readAllLines(result)) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          values.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
    }
    String failureLine =
        lines.stream()
            .map(OutputLine::text)
            .filter(t -> t.startsWith("run-in-l1: FAILED "))
            .reduce((first, second) -> second)
            .map(t -> t.substring("run-in-l1: FAILED ".length()))
            .orElse("");
    if (!values.containsKey("outcome") || values.get("outcome").isEmpty()) {
      return new NestedRun(
          Outcome.SETUP_ERROR,
          status,
          failureLine.isEmpty()
              ? "the harness exited with status " + status + " without a result"
              : failureLine,
          lines,
          Map.of(),
          wall);
    }
    Outcome outcome = Outcome.fromResultName(values.get("outcome"));
    Map<String, Double> timings = new HashMap<>();
    values.forEach(
        (k, v) -> {
          if (k.endsWith("_s") && v.matches("\\d+(\\.\\d+)?")) {
            timings.put(k, Double.parseDouble(v));
          }
        });
    String code = values.getOrDefault("exit_code", "");
    int exitCode =
        outcome == Outcome.JOB_EXIT && code.matches("\\d+") ? Integer.parseInt(code) : status;
    return new NestedRun(
        outcome, exitCode, outcome == Outcome.JOB_EXIT ? "" : failureLine, lines, timings, wall);
  }
}
