package dev.hearth.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class RunCommandTest {

  private final StringWriter err = new StringWriter();

  private int hearth(String... args) {
    CommandLine cmd = HearthCommand.commandLine();
    cmd.setErr(new PrintWriter(err, true));
    cmd.setOut(new PrintWriter(new StringWriter(), true));
    return cmd.execute(args);
  }

  @Test
  void aMissingManifestIsOneClearLine() {
    int status = hearth("run", "does/not/exist.yaml");
    assertThat(status).isEqualTo(UserFacingException.BAD_INPUT);
    assertThat(err.toString()).isEqualTo("hearth: does/not/exist.yaml: no such manifest file\n");
  }

  @Test
  void noArgumentsIsAUsageError(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("x"), "");
    assertThat(hearth("run")).isEqualTo(CommandLine.ExitCode.USAGE);
    assertThat(err.toString()).contains("Missing required parameter: 'MANIFEST'");
  }
}
