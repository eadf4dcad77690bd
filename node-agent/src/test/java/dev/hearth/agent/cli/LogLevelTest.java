package dev.hearth.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.common.LogLevel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The log level reaches the logging backend on this program's classpath (slf4j-simple): each run is
 * a fresh JVM, since that backend reads its level once.
 */
class LogLevelTest {

  /** Applies the level given as argument, then logs one line at each level. */
  public static void main(String[] args) {
    LogLevel.valueOf(args[0]).apply();
    var log = LoggerFactory.getLogger("hearth.test");
    log.debug("at-debug");
    log.info("at-info");
    log.warn("at-warn");
  }

  @Test
  void debugShowsDebugLines() throws Exception {
    assertThat(run("DEBUG")).contains("at-debug", "at-info", "at-warn");
  }

  @Test
  void warnHidesInfoLines() throws Exception {
    assertThat(run("WARN")).contains("at-warn").doesNotContain("at-info", "at-debug");
  }

  private static String run(String level) throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p =
        new ProcessBuilder(
                List.of(
                    java.toString(),
                    "-cp",
                    System.getProperty("java.class.path"),
                    LogLevelTest.class.getName(),
                    level))
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }
}
