package dev.hearth.e2e.chart;

import static dev.hearth.e2e.chart.ChartedProgram.value;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.common.LogLevel;
import dev.hearth.operator.scheduling.SchedulingStrategy;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Each chart value documented to configure a program ends up in the program's setting, read through
 * the program's own command line; and each program option has its one variable, named after it.
 */
class ChartValuesReachTheProgramsTest {

  @Test
  void agentValuesBecomeTheAgentsSettings() {
    Rendered chart =
        Helm.render(
            "--set", "agent.network.subnet=10.9.0.0/24",
            "--set", "agent.network.bridge=br9",
            "--set", "agent.httpPort=9950",
            "--set", "agent.reserved.vcpus=2",
            "--set", "agent.reserved.memoryMiB=2048",
            "--set", "agent.reserved.vcpuOvercommitRatio=4",
            "--set", "agent.reserved.vmOverheadMiB=3",
            "--set", "agent.logLevel=debug",
            "--set", "agent.dataDir=/srv/hearth",
            "--set", "agent.disk.imageCacheMiB=512",
            "--set", "agent.disk.vmWritableMiB=64",
            "--set", "agent.leaseDurationSeconds=20",
            "--set", "agent.stopGraceSeconds=5",
            "--set", "agent.vmsPerVmmProcess=300");
    ChartWorkload w = ChartWorkload.agent("values", chart);
    CommandLine agent = w.parsed();

    assertThat(agent.getCommandName()).isEqualTo("agent");
    assertThat(value(agent, "--node-name")).isEqualTo("node-1"); // spec.nodeName
    assertThat(value(agent, "--node-address")).isEqualTo("192.168.1.21"); // status.hostIP
    assertThat(value(agent, "--subnet-from-node")).isEqualTo(true); // network.clusterCIDR
    assertThat(value(agent, "--subnet")).isEqualTo("10.9.0.0/24");
    assertThat(value(agent, "--bridge")).isEqualTo("br9");
    assertThat(value(agent, "--http-port")).isEqualTo(9950);
    assertThat(value(agent, "--reserved-vcpus")).isEqualTo(2);
    assertThat(value(agent, "--reserved-memory-mib")).isEqualTo(2048L);
    assertThat(value(agent, "--vcpu-overcommit-ratio")).isEqualTo(4);
    assertThat(value(agent, "--vm-overhead-mib")).isEqualTo(3L);
    assertThat(value(agent, "--log-level")).isEqualTo(LogLevel.DEBUG);
    assertThat(value(agent, "--lease-namespace")).isEqualTo(Helm.NAMESPACE);
    assertThat(value(agent, "--image-cache-mib")).isEqualTo(512L);
    assertThat(value(agent, "--vm-writable-disk-mib")).isEqualTo(64L);
    assertThat(value(agent, "--lease-duration-seconds")).isEqualTo(20);
    assertThat(value(agent, "--stop-grace-seconds")).isEqualTo(5);
    assertThat(value(agent, "--vms-per-vmm-process")).isEqualTo(300);
    // The data directory is the node's agent.dataDir, mounted where the agent is told to look.
    String mountedAt = mountPathOfHostPath(chart, "/srv/hearth");
    assertThat(value(agent, "--data-dir")).isEqualTo(Path.of(mountedAt));
  }

  @Test
  void operatorValuesBecomeTheOperatorsSettings() {
    Rendered chart =
        Helm.render(
            "--set", "operator.httpPort=9090",
            "--set", "operator.watchNamespaces={team-a,team-b}",
            "--set", "operator.scheduling.strategy=pack",
            "--set", "operator.nodeLoss.gracePeriodSeconds=30",
            "--set", "operator.logLevel=warn",
            "--set", "operator.leaderElection.enabled=false",
            "--set", "network.clusterCIDR=10.50.0.0/16",
            "--set", "network.nodeCIDRMaskSize=26");
    CommandLine op = ChartWorkload.operator("values", chart).parsed();

    assertThat(value(op, "--cluster-cidr")).isEqualTo("10.50.0.0/16");
    assertThat(value(op, "--node-cidr-mask-size")).isEqualTo(26);
    assertThat(value(op, "--http-port")).isEqualTo(9090);
    assertThat(value(op, "--watch-namespaces")).isEqualTo(List.of("team-a", "team-b"));
    assertThat(value(op, "--scheduling-strategy")).isEqualTo(SchedulingStrategy.PACK);
    assertThat(value(op, "--node-grace-seconds")).isEqualTo(30);
    assertThat(value(op, "--log-level")).isEqualTo(LogLevel.WARN);
    assertThat(value(op, "--leader-election")).isEqualTo(false);
    assertThat(value(op, "--lease-namespace")).isEqualTo(Helm.NAMESPACE);

    CommandLine elected = ChartWorkload.operator("defaults", Helm.render()).parsed();
    assertThat(value(elected, "--leader-election")).isEqualTo(true);
    assertThat(value(elected, "--leader-election-namespace")).isEqualTo(Helm.NAMESPACE);

    // Without a cluster range the operator allocates nothing and each agent uses its own subnet.
    Rendered single = Helm.render("--set", "network.clusterCIDR=");
    assertThat(value(ChartWorkload.operator("single", single).parsed(), "--cluster-cidr"))
        .isEqualTo("");
    assertThat(value(ChartWorkload.agent("single", single).parsed(), "--subnet-from-node"))
        .isEqualTo(false);
  }

  @Test
  void everyOptionOfBothProgramsHasOneVariableNamedAfterIt() {
    List<CommandLine> commands =
        List.of(
            ChartedProgram.AGENT.command(List.of("agent")),
            ChartedProgram.OPERATOR.command(List.of()),
            ChartedProgram.OPERATOR.command(List.of("uninstall-cleanup")));
    for (CommandLine c : commands) {
      for (OptionSpec o : ChartedProgram.options(c)) {
        String expected =
            "HEARTH_" + o.longestName().substring(2).toUpperCase(Locale.ROOT).replace('-', '_');
        assertThat(ChartedProgram.variable(o))
            .as("the variable of %s %s", c.getCommandName(), o.longestName())
            .isEqualTo(expected);
        assertThat(String.join(" ", o.description()))
            .as("%s %s's help names its variable", c.getCommandName(), o.longestName())
            .contains(expected);
      }
    }
  }

  private static String mountPathOfHostPath(Rendered chart, String hostPath) {
    var pod = chart.agent().getSpec().getTemplate().getSpec();
    String volume =
        pod.getVolumes().stream()
            .filter(v -> v.getHostPath() != null && hostPath.equals(v.getHostPath().getPath()))
            .map(Volume::getName)
            .findFirst()
            .orElseThrow();
    return chart.agentContainer().getVolumeMounts().stream()
        .filter(m -> m.getName().equals(volume))
        .map(VolumeMount::getMountPath)
        .findFirst()
        .orElseThrow();
  }
}
