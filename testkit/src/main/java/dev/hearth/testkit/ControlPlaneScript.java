package dev.hearth.testkit;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The repository's {@code test-cluster/control-plane.sh}, run as a child process: the one place
 * that knows how a control plane is started, so that tests, CI and a developer's shell start the
 * same thing.
 */
final class ControlPlaneScript {
  /** The script's exit status when it found no Kubernetes binaries. */
  static final int EXIT_NO_BINARIES = 3;

  /** Property naming the {@code test-cluster} folder, when the working directory is elsewhere. */
  static final String FOLDER_PROPERTY = "hearth.testCluster";

  private static final Path RELATIVE = Path.of("test-cluster", "control-plane.sh");
  // The first start may unpack the binaries (about 170 MB) on a loaded machine.
  private static final long TIMEOUT_SECONDS = 240;

  /** What one run of the script did: its exit status and its output (stdout and stderr). */
  record Result(int exitCode, String output) {}

  private final Path script;

  private ControlPlaneScript(Path script) {
    this.script = script;
  }

  /**
   * Finds the script: in the folder the {@value #FOLDER_PROPERTY} system property names, else in
   * the working directory or the nearest folder above it that has {@code test-cluster/} (Maven runs
   * a module's tests in that module's folder).
   */
  static ControlPlaneScript locate() {
    String folder = System.getProperty(FOLDER_PROPERTY);
    if (folder != null && !folder.isBlank()) {
      Path candidate = Path.of(folder).resolve(RELATIVE.getFileName());
      if (!Files.isRegularFile(candidate)) {
        throw new TestClusterException(
            FOLDER_PROPERTY + "=" + folder + " holds no " + RELATIVE.getFileName());
      }
      return new ControlPlaneScript(candidate.toAbsolutePath());
    }
    Path start = Path.of("").toAbsolutePath();
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve(RELATIVE))) {
        return new ControlPlaneScript(dir.resolve(RELATIVE));
      }
    }
    throw new TestClusterException(
        "no "
            + RELATIVE
            + " in "
            + start
            + " or a folder above it; set -D"
            + FOLDER_PROPERTY
            + "=<repository>/test-cluster");
  }

  /**
   * Starts a control plane in {@code dir}, watched by this JVM: should the JVM die without stopping
   * it, the script's watchdog does.
   */
  Result start(Path dir) {
    return run("start", dir.toString(), "--owner", Long.toString(ProcessHandle.current().pid()));
  }

  /** Stops what {@link #start} started in {@code dir}; harmless when nothing runs there. */
  Result stop(Path dir) {
    return run("stop", dir.toString());
  }

  /** The repository the script belongs to (the folder above {@code test-cluster}). */
  Path repository() {
    return script.getParent().getParent();
  }

  private Result run(String... args) {
    List<String> command = new ArrayList<>(List.of("bash", script.toString()));
    command.addAll(List.of(args));
    return exec(command, TIMEOUT_SECONDS);
  }

  /** Runs {@code command}, its output (stdout and stderr) to a file, for at most the timeout. */
  static Result exec(List<String> command, long timeoutSeconds) {
    Path log = null;
    try {
      // Output to a file, not a pipe: a hung script must not block this thread past the timeout.
      log = Files.createTempFile("hearth-control-plane-", ".log");
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .start();
      boolean ended = process.waitFor(timeoutSeconds, TimeUnit.SECONDS);
      if (!ended) {
        process.destroyForcibly().waitFor();
      }
      String output = Files.readString(log, StandardCharsets.UTF_8).strip();
      if (!ended) {
        throw new TestClusterException(
            String.join(" ", command) + " still ran after " + timeoutSeconds + " s: " + output);
      }
      return new Result(process.exitValue(), output);
    } catch (IOException e) {
      throw new TestClusterException("cannot run " + String.join(" ", command), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TestClusterException("interrupted while running " + String.join(" ", command), e);
    } finally {
      if (log != null) {
        try {
          Files.deleteIfExists(log);
        } catch (IOException e) {
          // A temporary file left behind is harmless.
        }
      }
    }
  }

  /** The {@code KEY=value} lines of the {@code env} file the script leaves in {@code dir}. */
  static Map<String, String> readFacts(Path dir) {
    Map<String, String> facts = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(dir.resolve("env"))) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          facts.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
    } catch (IOException e) {
      throw new TestClusterException("cannot read " + dir.resolve("env"), e);
    }
    return Map.copyOf(facts);
  }
}
