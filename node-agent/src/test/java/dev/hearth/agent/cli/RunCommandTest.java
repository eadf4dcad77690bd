package dev.hearth.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** What a user sees from {@code hearth run} when something is wrong: one line, no trace. */
class RunCommandTest {

  @TempDir Path dir;
  private final StringWriter err = new StringWriter();

  private int hearth(String... args) {
    CommandLine cmd = HearthCommand.commandLine();
    cmd.setErr(new PrintWriter(err, true));
    cmd.setOut(new PrintWriter(new StringWriter(), true));
    return cmd.execute(args);
  }

  private Path manifest(String spec) throws Exception {
    Path file = dir.resolve("vm.yaml");
    Files.writeString(
        file,
        "apiVersion: hearth.dev/v1alpha1\nkind: MicroVM\nmetadata: {name: t}\nspec:\n"
            + spec.indent(2));
    return file;
  }

  private Path kernel() throws Exception {
    return Files.write(dir.resolve("kernel.elf"), new byte[] {0x7f, 'E', 'L', 'F'});
  }

  @Test
  void aMissingManifestIsOneClearLine() {
    assertThat(hearth("run", "does/not/exist.yaml")).isEqualTo(UserFacingException.BAD_INPUT);
    assertThat(err.toString()).isEqualTo("hearth: does/not/exist.yaml: no such manifest file\n");
  }

  @Test
  void tooManyVcpusNamesTheField() throws Exception {
    Path m = manifest("vcpus: 33\nkernel: {source: {path: k}}");
    assertThat(hearth("run", m.toString())).isEqualTo(UserFacingException.BAD_INPUT);
    assertThat(err.toString())
        .isEqualTo(
            "hearth: "
                + m
                + ": spec.vcpus: Invalid value: 33: spec.vcpus in body should be less than or equal"
                + " to 32\n");
  }

  @Test
  void anUnreadableKernelNamesTheField() throws Exception {
    Path m = manifest("kernel: {source: {path: missing.elf}}");
    assertThat(hearth("run", m.toString())).isEqualTo(UserFacingException.BAD_INPUT);
    assertThat(err.toString())
        .startsWith("hearth: spec.kernel.source: ")
        .contains(dir.resolve("missing.elf").toString())
        .doesNotContain("Exception")
        .hasLineCount(1);
  }

  @Test
  void aSubnetThatIsNoCidrIsOneLineBeforeAnythingIsMade() throws Exception {
    kernel();
    Path m = manifest("kernel: {source: {path: kernel.elf}}\nnetwork: [{name: eth0}]");
    assertThat(hearth("run", "--subnet", "10.1.2.3", m.toString()))
        .isEqualTo(UserFacingException.BAD_INPUT);
    assertThat(err.toString())
        .isEqualTo("hearth: --subnet: subnet '10.1.2.3' is not of the form a.b.c.d/n\n");
  }

  @Test
  void noArgumentsIsAUsageError() {
    assertThat(hearth("run")).isEqualTo(CommandLine.ExitCode.USAGE);
    assertThat(err.toString()).contains("Missing required parameter: 'MANIFEST'");
  }
}
