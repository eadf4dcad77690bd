package dev.hearth.e2e.chart;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import picocli.CommandLine;

/** One container the chart renders, and the program its image runs. */
record ChartWorkload(String render, Container container, ChartedProgram program) {
  /** Stand-ins for what the downward API gives a pod. */
  static final Map<String, String> DOWNWARD_API =
      Map.of(
          "spec.nodeName", "node-1",
          "metadata.namespace", Helm.NAMESPACE,
          "metadata.name", "pod-1");

  static ChartWorkload operator(String render, Rendered chart) {
    return new ChartWorkload(render, chart.operatorContainer(), ChartedProgram.OPERATOR);
  }

  static ChartWorkload agent(String render, Rendered chart) {
    return new ChartWorkload(render, chart.agentContainer(), ChartedProgram.AGENT);
  }

  /** The device plugin's DaemonSet: the agent image with the subcommand device-plugin. */
  static ChartWorkload devicePlugin(String render, Rendered chart) {
    return new ChartWorkload(render, chart.devicePluginContainer(), ChartedProgram.AGENT);
  }

  /** The pre-delete hook's Job: the operator image with the subcommand uninstall-cleanup. */
  static ChartWorkload uninstall(String render, Rendered chart) {
    return new ChartWorkload(render, chart.uninstallContainer(), ChartedProgram.OPERATOR);
  }

  /** The image's CMD is replaced by these; the chart always sets them for the agent. */
  List<String> args() {
    return container.getArgs() == null ? List.of() : container.getArgs();
  }

  /** The container's environment, downward-API values filled in as a pod would see them. */
  Map<String, String> env() {
    Map<String, String> out = new LinkedHashMap<>();
    for (EnvVar e : container.getEnv()) {
      String value =
          e.getValueFrom() == null
              ? e.getValue()
              : DOWNWARD_API.get(e.getValueFrom().getFieldRef().getFieldPath());
      out.put(e.getName(), Objects.requireNonNull(value, e.getName()));
    }
    return out;
  }

  /** The program's command with the arguments and environment parsed into its options. */
  CommandLine parsed() {
    return program.parse(args(), env());
  }

  @Override
  public String toString() {
    return container.getName() + " [" + render + "]";
  }
}
