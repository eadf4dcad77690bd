package dev.hearth.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** The objects one {@code helm template} run rendered, with finders for the chart's workloads. */
record Rendered(List<HasMetadata> objects) {
  Rendered {
    objects = List.copyOf(objects);
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  <T extends HasMetadata> T one(Class<T> type, String name) {
    List<T> found = all(type).stream().filter(o -> o.getMetadata().getName().equals(name)).toList();
    assertThat(found).as("%s %s", type.getSimpleName(), name).hasSize(1);
    return found.getFirst();
  }

  HasMetadata one(String kind, String name) {
    List<HasMetadata> found =
        objects.stream()
            .filter(o -> o.getKind().equals(kind) && o.getMetadata().getName().equals(name))
            .toList();
    assertThat(found).as("%s %s", kind, name).hasSize(1);
    return found.getFirst();
  }

  Deployment operator() {
    return one(Deployment.class, Helm.RELEASE + "-operator");
  }

  DaemonSet agent() {
    return one(DaemonSet.class, Helm.RELEASE + "-agent");
  }

  /** Hearth's device plugin (values: agent.kvmAccess=devicePlugin, agent.devicePlugin). */
  DaemonSet devicePlugin() {
    return one(DaemonSet.class, Helm.RELEASE + "-device-plugin");
  }

  Container devicePluginContainer() {
    return devicePlugin().getSpec().getTemplate().getSpec().getContainers().getFirst();
  }

  /** The pre-delete hook's Job (values: uninstall). */
  Job uninstallJob() {
    return one(Job.class, Helm.RELEASE + "-uninstall");
  }

  Container uninstallContainer() {
    return uninstallJob().getSpec().getTemplate().getSpec().getContainers().getFirst();
  }

  Container operatorContainer() {
    return operator().getSpec().getTemplate().getSpec().getContainers().getFirst();
  }

  Container agentContainer() {
    return agent().getSpec().getTemplate().getSpec().getContainers().getFirst();
  }

  /** Variables set from the downward API, to the field they read. */
  static Map<String, String> downwardApi(Container c) {
    return c.getEnv().stream()
        .filter(e -> e.getValueFrom() != null && e.getValueFrom().getFieldRef() != null)
        .collect(
            Collectors.toMap(EnvVar::getName, e -> e.getValueFrom().getFieldRef().getFieldPath()));
  }

  /** Variables with a literal value, to that value. */
  static Map<String, String> env(Container c) {
    return c.getEnv().stream()
        .filter(e -> e.getValue() != null)
        .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
  }
}
