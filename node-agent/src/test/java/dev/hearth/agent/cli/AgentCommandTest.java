package dev.hearth.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.agent.image.Destinations;
import dev.hearth.common.HearthBuild;
import dev.hearth.common.LogLevel;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class AgentCommandTest {
  private final StringWriter err = new StringWriter();

  private int hearth(String... args) {
    CommandLine cmd = HearthCommand.commandLine();
    cmd.setErr(new PrintWriter(err, true));
    cmd.setOut(new PrintWriter(new StringWriter(), true));
    return cmd.execute(args);
  }

  /** {@code hearth agent ARGS}, parsed as the program parses them (case-insensitive enums). */
  private static AgentCommand agent(String... args) {
    CommandLine hearth = HearthCommand.commandLine();
    String[] all = new String[args.length + 1];
    all[0] = "agent";
    System.arraycopy(args, 0, all, 1, args.length);
    hearth.parseArgs(all);
    return hearth.getSubcommands().get("agent").getCommand();
  }

  @Test
  void settingsComeFromOptionsWithDefaults() {
    AgentCommand cmd =
        agent("--node-name", "worker-1", "--subnet", "10.9.0.0/24", "--http-port", "0");
    var s = cmd.settings();
    assertThat(s.nodeName()).isEqualTo("worker-1");
    assertThat(s.subnet().toString()).isEqualTo("10.9.0.0/24");
    assertThat(s.bridge()).isEqualTo("hearth0");
    assertThat(s.stateDir().toString()).isEqualTo("/var/lib/hearth");
    assertThat(s.leaseDurationSeconds()).isEqualTo(40);
    assertThat(s.imageDestinations()).isEqualTo(Destinations.PUBLIC);
    assertThat(s.imageCacheBytes()).isEqualTo(10240L << 20);
    assertThat(s.vmWritableBytes()).isEqualTo(20480L << 20);
    var bounded =
        agent("--node-name", "w", "--image-cache-mib", "512", "--vm-writable-disk-mib", "64")
            .settings();
    assertThat(bounded.imageCacheBytes()).isEqualTo(512L << 20);
    assertThat(bounded.vmWritableBytes()).isEqualTo(64L << 20);
    assertThat(
            agent("--node-name", "w", "--image-allow-private-networks", "true")
                .settings()
                .imageDestinations())
        .isEqualTo(Destinations.PUBLIC_AND_PRIVATE);
  }

  @Test
  void versionIsTheBuildsOnTheCommandAndEverySubcommand() {
    for (String[] args : new String[][] {{"-V"}, {"agent", "-V"}}) {
      StringWriter out = new StringWriter();
      CommandLine cmd = HearthCommand.commandLine();
      cmd.setOut(new PrintWriter(out, true));
      assertThat(cmd.execute(args)).isZero();
      assertThat(out.toString().strip())
          .isEqualTo("hearth " + HearthBuild.version())
          .doesNotContain("dev");
    }
  }

  @Test
  void logLevelTakesTheChartsLowerCaseSpelling() {
    assertThat(agent("--node-name", "n", "--log-level", "debug").logging.level())
        .isEqualTo(LogLevel.DEBUG);
  }

  @Test
  void badSettingsAreOneClearLine() {
    assertThat(hearth("agent", "--node-name", "worker-1", "--subnet", "10.9.0.1/24"))
        .isEqualTo(UserFacingException.BAD_INPUT);
    assertThat(err.toString())
        .isEqualTo("hearth: 10.9.0.1/24 has host bits set; use 10.9.0.0/24\n");
  }

  @Test
  void aNodeNameIsRequired() {
    AgentCommand cmd = agent("--node-name", "");
    org.assertj.core.api.Assertions.assertThatThrownBy(cmd::settings)
        .hasMessage("no node name: set --node-name or HEARTH_NODE_NAME");
  }
}
