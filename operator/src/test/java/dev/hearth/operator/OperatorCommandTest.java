package dev.hearth.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hearth.common.HearthBuild;
import dev.hearth.common.LogLevel;
import dev.hearth.operator.scheduling.SchedulingStrategy;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The operator's options: what each makes of OperatorConfig, and -V. */
class OperatorCommandTest {

  private static OperatorCommand parse(String... args) {
    CommandLine cmd = OperatorCommand.commandLine();
    cmd.parseArgs(args);
    return cmd.getCommand();
  }

  @Test
  void flagsMakeTheConfig() {
    OperatorCommand cmd =
        parse(
            "--watch-namespaces=a, b,",
            "--lease-namespace=agents",
            "--scheduling-strategy=pack",
            "--vmm-overhead-mib=64",
            "--node-grace-seconds=30",
            "--leader-election=false",
            "--leader-election-namespace=ops",
            "--reconcile-threads=4",
            "--http-port=9000",
            "--log-level=warn");
    OperatorConfig c = cmd.config();
    assertThat(c.namespaces()).containsExactlyInAnyOrder("a", "b");
    assertThat(c.leaseNamespace()).isEqualTo("agents");
    assertThat(c.scheduler().strategy()).isEqualTo(SchedulingStrategy.PACK);
    assertThat(c.scheduler().vmmOverheadMiB()).isEqualTo(64);
    assertThat(c.nodeGracePeriod()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.leaderElection()).isFalse();
    assertThat(c.leaderElectionNamespace()).isEqualTo("ops");
    assertThat(c.reconcileThreads()).isEqualTo(4);
    assertThat(c.metricsPort()).isEqualTo(9000);
    assertThat(cmd.logLevel).isEqualTo(LogLevel.WARN);
  }

  @Test
  void withoutFlagsOrVariablesTheConfigIsTheDefaults() {
    // A flag-less parse gives the settings that tests build with OperatorConfig.defaults(), when
    // none of the operator's variables is set (as in the build).
    assumeTrue(
        System.getenv().keySet().stream()
            .noneMatch(k -> k.startsWith("HEARTH_") && !k.equals("HEARTH_NO_NESTED")),
        "HEARTH_* variables are set in this environment");
    assertThat(parse().config()).isEqualTo(OperatorConfig.defaults());
  }

  @Test
  void versionIsTheBuilds() {
    StringWriter out = new StringWriter();
    CommandLine cmd = OperatorCommand.commandLine();
    cmd.setOut(new PrintWriter(out, true));
    assertThat(cmd.execute("-V")).isZero();
    assertThat(out.toString().strip()).isEqualTo("hearth-operator " + HearthBuild.version());
  }
}
