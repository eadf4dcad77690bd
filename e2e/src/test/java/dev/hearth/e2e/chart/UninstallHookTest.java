package dev.hearth.e2e.chart;

import static dev.hearth.e2e.chart.ChartedProgram.value;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.common.LogLevel;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The pre-delete hook that lets {@code helm uninstall} leave no MicroVM behind: a Job running the
 * operator image's {@code uninstall-cleanup}, with an account of its own that exists before the Job
 * and may only list and delete MicroVMs and MicroVMSets. ChartOnRealNodeIT runs it for real.
 */
class UninstallHookTest {
  private static final String NAME = Helm.RELEASE + "-uninstall";

  @Test
  void aPreDeleteJobRunsTheCleanupUnderItsOwnAccountMadeBeforeIt() {
    Rendered chart = Helm.render();
    Job job = chart.uninstallJob();
    ServiceAccountAndRoles rbac = ServiceAccountAndRoles.of(chart);
    for (HasMetadata o : List.of(job, rbac.account(), rbac.role(), rbac.binding())) {
      Map<String, String> a = o.getMetadata().getAnnotations();
      assertThat(a).as("%s's annotations", o.getKind()).containsEntry("helm.sh/hook", "pre-delete");
      assertThat(Set.of(a.get("helm.sh/hook-delete-policy").split(",")))
          .as("%s is replaced on a retry and removed once the cleanup succeeded", o.getKind())
          .containsExactlyInAnyOrder("before-hook-creation", "hook-succeeded");
    }
    int jobWeight = weight(job);
    assertThat(weight(rbac.binding())).isLessThan(jobWeight);
    assertThat(weight(rbac.account())).isLessThan(weight(rbac.binding()));
    assertThat(weight(rbac.role())).isLessThan(weight(rbac.binding()));

    assertThat(ChartRbacTest.grants(rbac.role().getRules()))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "hearth.dev/microvms", Set.of("list", "delete"),
                "hearth.dev/microvmsets", Set.of("list", "delete")));
    assertThat(rbac.binding().getRoleRef().getName()).isEqualTo(NAME);
    assertThat(rbac.binding().getSubjects())
        .containsExactly(new Subject(null, "ServiceAccount", NAME, Helm.NAMESPACE));
    var pod = job.getSpec().getTemplate().getSpec();
    assertThat(pod.getServiceAccountName()).isEqualTo(NAME);
    assertThat(pod.getRestartPolicy()).isEqualTo("Never");

    Deployment operator = chart.operator();
    assertThat(chart.uninstallContainer().getImage())
        .isEqualTo(
            operator.getSpec().getTemplate().getSpec().getContainers().getFirst().getImage());
    assertThat(chart.uninstallContainer().getArgs()).containsExactly("uninstall-cleanup");
    // The Job is not cut off before the program reports what is left.
    assertThat(job.getSpec().getActiveDeadlineSeconds()).isGreaterThan(180L);
  }

  @Test
  void valuesReachTheCleanup() {
    Rendered chart =
        Helm.render(
            "--set", "operator.watchNamespaces={team-a,team-b}",
            "--set", "operator.logLevel=debug",
            "--set", "uninstall.timeoutSeconds=300");
    CommandLine cleanup = ChartWorkload.uninstall("values", chart).parsed();
    assertThat(cleanup.getCommandName()).isEqualTo("uninstall-cleanup");
    assertThat(value(cleanup, "--watch-namespaces")).isEqualTo(List.of("team-a", "team-b"));
    assertThat(value(cleanup, "--timeout-seconds")).isEqualTo(300);
    assertThat(value(cleanup, "--log-level")).isEqualTo(LogLevel.DEBUG);
    assertThat(chart.uninstallJob().getSpec().getActiveDeadlineSeconds()).isGreaterThan(300L);
  }

  @Test
  void turnedOffThereIsNoHook() {
    Rendered chart = Helm.render("--set", "uninstall.deleteMicroVMs=false");
    assertThat(chart.objects())
        .noneMatch(o -> o.getMetadata().getName().equals(NAME))
        .noneMatch(
            o ->
                o.getMetadata().getAnnotations() != null
                    && o.getMetadata().getAnnotations().containsKey("helm.sh/hook"));
  }

  @Test
  void withRbacLeftToTheUserTheJobRunsAsTheOperator() {
    Rendered chart = Helm.render("--set", "rbac.create=false");
    assertThat(chart.uninstallJob().getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo(Helm.RELEASE + "-operator");
    assertThat(chart.objects())
        .noneMatch(o -> o.getMetadata().getName().equals(NAME) && !(o instanceof Job));
  }

  private static int weight(HasMetadata o) {
    return Integer.parseInt(o.getMetadata().getAnnotations().get("helm.sh/hook-weight"));
  }

  /** The hook's own account and its cluster-wide role and binding. */
  private record ServiceAccountAndRoles(
      HasMetadata account, ClusterRole role, ClusterRoleBinding binding) {
    static ServiceAccountAndRoles of(Rendered chart) {
      return new ServiceAccountAndRoles(
          chart.one("ServiceAccount", NAME),
          chart.one(ClusterRole.class, NAME),
          chart.one(ClusterRoleBinding.class, NAME));
    }
  }
}
