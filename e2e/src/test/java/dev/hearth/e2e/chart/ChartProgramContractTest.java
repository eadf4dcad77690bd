package dev.hearth.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The chart's operator Deployment, agent DaemonSet and uninstall hook Job against the programs they
 * run, with every values toggle that changes a workload's environment or arguments: each variable
 * the chart sets is one the program reads (its picocli options' {@code ${env:...}} defaults), each
 * argument parses, each value converts, and each probe path is served by the program's own HTTP
 * server on the port the probe names. ChartValuesReachTheProgramsTest checks what the values
 * become.
 */
class ChartProgramContractTest {
  /** Read by the JVM itself, not by the program. */
  private static final Set<String> JVM_VARIABLES = Set.of("JAVA_TOOL_OPTIONS");

  /** Renders whose workloads differ in environment or arguments. */
  static Stream<ChartWorkload> workloads() {
    List<List<String>> renders =
        List.of(
            List.of(),
            List.of("--set", "operator.watchNamespaces={team-a,team-b}"),
            List.of("--set", "operator.leaderElection.enabled=false"),
            List.of("--set", "agent.kvmAccess=privileged"),
            List.of(
                "--set", "operator.logLevel=debug",
                "--set", "agent.logLevel=warn",
                "--set", "operator.scheduling.strategy=pack"));
    List<ChartWorkload> out = new ArrayList<>();
    for (List<String> r : renders) {
      Rendered chart = Helm.render(r.toArray(String[]::new));
      String name = r.isEmpty() ? "defaults" : String.join(" ", r);
      out.add(ChartWorkload.operator(name, chart));
      out.add(ChartWorkload.agent(name, chart));
      out.add(ChartWorkload.uninstall(name, chart));
      if (!r.contains("agent.kvmAccess=privileged")) {
        out.add(ChartWorkload.devicePlugin(name, chart));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("workloads")
  void everyVariableTheChartSetsIsOneTheProgramReads(ChartWorkload w) {
    Set<String> read = w.program().variables(w.args()).keySet();
    List<String> unread =
        w.env().keySet().stream()
            .filter(v -> !read.contains(v) && !JVM_VARIABLES.contains(v))
            .toList();
    assertThat(unread)
        .as("variables %s sets that %s does not read (it reads %s)", w, w.program(), read)
        .isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("workloads")
  void everyArgumentAndValueTheChartGivesParses(ChartWorkload w) {
    assertThatCode(w::parsed)
        .as("%s's arguments %s and env", w, w.args())
        .doesNotThrowAnyException();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("workloads")
  void everyProbeAsksForAPathTheProgramServesOnThePortItListensOn(ChartWorkload w)
      throws Exception {
    Container c = w.container();
    List<Probe> probes =
        Stream.of(c.getStartupProbe(), c.getLivenessProbe(), c.getReadinessProbe())
            .filter(Objects::nonNull)
            .toList();
    if (probes.isEmpty()) {
      return; // the uninstall hook's Job runs to completion; nothing probes it
    }
    int listens = (Integer) ChartedProgram.value(w.parsed(), "--http-port");
    for (Probe p : probes) {
      HTTPGetAction get = p.getHttpGet();
      assertThat(get).as("%s: only HTTP probes are checked", w).isNotNull();
      assertThat(containerPort(c, get.getPort()))
          .as("%s probes %s on a port the program does not listen on", w, get.getPath())
          .isEqualTo(listens);
      assertThat(w.program().statusOf(get.getPath()))
          .as("%s's %s answers %s", w.program(), get.getPath(), w)
          .isEqualTo(200);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("programs")
  void theServiceMonitorScrapesAPathBothProgramsServe(ChartedProgram program) throws Exception {
    Rendered chart =
        Helm.render(
            "--set",
            "metrics.serviceMonitor.enabled=true",
            "--api-versions",
            "monitoring.coreos.com/v1/ServiceMonitor");
    GenericKubernetesResource sm =
        (GenericKubernetesResource) chart.one("ServiceMonitor", Helm.RELEASE);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> endpoints =
        (List<Map<String, Object>>)
            ((Map<String, Object>) sm.getAdditionalProperties().get("spec")).get("endpoints");
    assertThat(endpoints).isNotEmpty();
    for (Map<String, Object> e : endpoints) {
      assertThat(program.statusOf((String) e.get("path"))).isEqualTo(200);
    }
  }

  static Stream<ChartedProgram> programs() {
    return Stream.of(ChartedProgram.OPERATOR, ChartedProgram.AGENT);
  }

  private static int containerPort(Container c, IntOrString port) {
    if (port.getIntVal() != null) {
      return port.getIntVal();
    }
    return c.getPorts().stream()
        .filter(p -> port.getStrVal().equals(p.getName()))
        .map(ContainerPort::getContainerPort)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no container port named " + port.getStrVal()));
  }
}
