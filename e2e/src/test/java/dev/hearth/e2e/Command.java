package dev.hearth.e2e;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a program of the host (helm, kubectl, the {@code test-cluster} scripts) to its end: the one
 * place the e2e tests start processes from, with output to files rather than pipes, so that a hung
 * program cannot block a test past its timeout.
 */
public final class Command {
  /** What one run did: its exit status and what it wrote. */
  public record Result(int status, String stdout, String stderr) {
    /** Throws, with the command's error output, unless it exited with 0. */
    public Result orFail(String what) {
      if (status != 0) {
        throw new AssertionError(what + " exited with " + status + ":\n" + stderr + stdout);
      }
      return this;
    }
  }

  private Command() {}

  /** Runs {@code command} in {@code dir} with extra environment; fails after {@code timeout}. */
  public static Result run(
      List<String> command, Path dir, Map<String, String> env, Duration timeout) {
    try {
      Path out = Files.createTempFile("hearth-cmd", ".out");
      Path err = Files.createTempFile("hearth-cmd", ".err");
      try {
        ProcessBuilder pb =
            new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          p.destroyForcibly().waitFor();
          throw new AssertionError(
              command + " ran longer than " + timeout + ":\n" + Files.readString(err));
        }
        return new Result(
            p.exitValue(),
            Files.readString(out, StandardCharsets.UTF_8),
            Files.readString(err, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new AssertionError("cannot run " + command + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted running " + command, e);
    }
  }
}
