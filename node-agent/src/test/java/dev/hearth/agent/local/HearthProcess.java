package dev.hearth.agent.local;

import dev.hearth.agent.cli.HearthCommand;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code hearth run} as a process (the CLI's main on this test JVM's class path), its stdout and
 * stderr collected; stopped with SIGTERM, as Ctrl-C would stop it.
 */
final class HearthProcess implements AutoCloseable {
  private static final Duration STOP_LIMIT = Duration.ofMinutes(1);

  private final Process process;
  private final StringBuilder out = new StringBuilder();
  private final Thread reader;

  private HearthProcess(Process process) {
    this.process = process;
    this.reader =
        Thread.ofPlatform()
            .daemon()
            .start(
                () -> {
                  try (BufferedReader r =
                      new BufferedReader(
                          new InputStreamReader(
                              process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line = r.readLine(); line != null; line = r.readLine()) {
                      synchronized (out) {
                        out.append(line).append('\n');
                      }
                    }
                  } catch (IOException e) {
                    // The process is gone; what it wrote is in out.
                  }
                });
  }

  static HearthProcess start(Path manifest, Path images) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(
        List.of(
            "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            // Failsafe runs tests from a manifest-only jar and publishes the real class path.
            System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
            HearthCommand.class.getName(),
            "run",
            "--images-dir",
            images.toString(),
            "--cache-dir",
            images.resolveSibling("cache").toString(),
            manifest.toString()));
    return new HearthProcess(new ProcessBuilder(cmd).redirectErrorStream(true).start());
  }

  String output() {
    synchronized (out) {
      return out.toString();
    }
  }

  /** Waits until the output holds {@code text}; returns the output from its line on. */
  String await(String text, Duration limit) throws InterruptedException {
    Instant end = Instant.now().plus(limit);
    while (Instant.now().isBefore(end)) {
      String o = output();
      int at = o.indexOf(text);
      if (at >= 0) {
        return o.substring(o.lastIndexOf('\n', at) + 1);
      }
      if (!process.isAlive()) {
        // Whatever it wrote last may still be on its way through the pipe.
        Thread.sleep(500);
        if (output().equals(o)) {
          break;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError(
        "hearth run did not print '"
            + text
            + "' within "
            + limit
            + (process.isAlive() ? "" : " (it exited with " + process.exitValue() + ")")
            + "; it printed:\n"
            + output());
  }

  /** SIGTERM, as Ctrl-C would be, unless it has ended; returns its exit status. */
  int stop() throws InterruptedException {
    // Through the handle: Process.destroy() also closes the pipes, losing the last lines.
    process.toHandle().destroy();
    if (!process.waitFor(STOP_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(
          "hearth run did not stop within " + STOP_LIMIT + " of SIGTERM:\n" + output());
    }
    // Its last lines may still be in the pipe.
    reader.join(Duration.ofSeconds(10));
    return process.exitValue();
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
