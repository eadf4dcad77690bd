package dev.hearth.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The operator Deployment, the metrics Services and the optional ServiceMonitor. */
class OperatorDeploymentTest {

  @Test
  void runsWithLeaderElectionProbesAndResources() {
    Rendered chart =
        Helm.render(
            "--set", "operator.replicas=2",
            "--set", "operator.watchNamespaces={team-a,team-b}",
            "--set", "operator.scheduling.strategy=pack");
    assertThat(chart.operator().getSpec().getReplicas()).isEqualTo(2);
    Container op = chart.operatorContainer();
    // Names of OperatorCommand's options (ChartProgramContractTest checks them all).
    assertThat(Rendered.env(op))
        .containsEntry("HEARTH_LEADER_ELECTION", "true")
        .containsEntry("HEARTH_SCHEDULING_STRATEGY", "pack")
        .containsEntry("HEARTH_NODE_GRACE_SECONDS", "60")
        .containsEntry("HEARTH_HTTP_PORT", "8080")
        .containsEntry("HEARTH_WATCH_NAMESPACES", "team-a,team-b");
    assertThat(Rendered.downwardApi(op))
        .containsEntry("HEARTH_LEADER_ELECTION_NAMESPACE", "metadata.namespace")
        .containsEntry("HEARTH_LEASE_NAMESPACE", "metadata.namespace");
    assertThat(Rendered.env(Helm.render().operatorContainer()))
        .doesNotContainKey("HEARTH_WATCH_NAMESPACES");
    assertThat(op.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(op.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(op.getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(op.getResources().getLimits()).containsKey("memory");
    assertThat(op.getImage()).isEqualTo("hearth/operator:0.1.0");
  }

  @Test
  void refusesTwoReplicasWithoutLeaderElection() {
    Helm.Result r =
        Helm.template(
            "--set", "operator.replicas=2", "--set", "operator.leaderElection.enabled=false");
    assertThat(r.status()).isNotZero();
    assertThat(r.stderr()).contains("operator.replicas > 1 needs operator.leaderElection.enabled");
  }

  @Test
  void runsAsNonRootWithAReadOnlyRootAndNoCapabilities() {
    Rendered chart = Helm.render();
    PodSecurityContext pod =
        chart.operator().getSpec().getTemplate().getSpec().getSecurityContext();
    assertThat(pod.getRunAsNonRoot()).isTrue();
    assertThat(pod.getRunAsUser()).isEqualTo(65532L);
    assertThat(pod.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    var sc = chart.operatorContainer().getSecurityContext();
    assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
    assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
    assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(sc.getPrivileged()).isNull();
    assertThat(chart.operator().getSpec().getTemplate().getSpec().getHostNetwork()).isNull();
  }

  @Test
  void exposesMetricsOfBothComponentsThroughServices() {
    Rendered chart = Helm.render();
    Service op = chart.one(Service.class, "hearth-operator-metrics");
    assertThat(op.getSpec().getSelector()).containsEntry("app.kubernetes.io/component", "operator");
    assertThat(op.getSpec().getPorts())
        .singleElement()
        .satisfies(p -> assertThat(p.getName()).isEqualTo("metrics"));
    Service agent = chart.one(Service.class, "hearth-agent-metrics");
    assertThat(agent.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(agent.getSpec().getSelector()).containsEntry("app.kubernetes.io/component", "agent");
    assertThat(chart.objects()).noneMatch(o -> o.getKind().equals("ServiceMonitor"));

    assertThat(Helm.render("--set", "metrics.service.enabled=false").all(Service.class)).isEmpty();
  }

  @Test
  void addsAServiceMonitorOnlyWhenAskedAndTheApiExists() {
    Helm.Result missingApi = Helm.template("--set", "metrics.serviceMonitor.enabled=true");
    assertThat(missingApi.status()).isNotZero();
    assertThat(missingApi.stderr()).contains("monitoring.coreos.com/v1");

    Rendered chart =
        Helm.render(
            "--set", "metrics.serviceMonitor.enabled=true",
            "--set", "metrics.serviceMonitor.labels.release=prom",
            "--api-versions", "monitoring.coreos.com/v1/ServiceMonitor");
    GenericKubernetesResource sm =
        (GenericKubernetesResource) chart.one("ServiceMonitor", "hearth");
    assertThat(sm.getMetadata().getLabels()).containsEntry("release", "prom");
    @SuppressWarnings("unchecked")
    Map<String, Object> selector =
        (Map<String, Object>)
            ((Map<String, Object>) sm.getAdditionalProperties().get("spec")).get("selector");
    assertThat(selector)
        .containsEntry(
            "matchLabels",
            Map.of(
                "app.kubernetes.io/name", "hearth",
                "app.kubernetes.io/instance", "hearth",
                "hearth.dev/metrics", "true"));
    // Both metrics Services carry the label the ServiceMonitor selects.
    assertThat(chart.all(Service.class))
        .extracting(s -> s.getMetadata().getLabels().get("hearth.dev/metrics"))
        .containsExactly("true", "true");
    // Each Service's port is one the ServiceMonitor scrapes: the operator's over HTTP, the
    // agents' over HTTPS with Prometheus's token (they serve /metrics to no one else).
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> endpoints =
        (List<Map<String, Object>>)
            ((Map<String, Object>) sm.getAdditionalProperties().get("spec")).get("endpoints");
    assertThat(
            chart
                .one(Service.class, "hearth-operator-metrics")
                .getSpec()
                .getPorts()
                .getFirst()
                .getName())
        .isEqualTo("metrics");
    assertThat(
            chart
                .one(Service.class, "hearth-agent-metrics")
                .getSpec()
                .getPorts()
                .getFirst()
                .getName())
        .isEqualTo("https-metrics");
    assertThat(endpoints)
        .anySatisfy(e -> assertThat(e).containsEntry("port", "metrics").doesNotContainKey("scheme"))
        .anySatisfy(
            e ->
                assertThat(e)
                    .containsEntry("port", "https-metrics")
                    .containsEntry("scheme", "https")
                    .containsKey("bearerTokenFile"));
  }
}
