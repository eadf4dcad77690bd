package dev.hearth.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** `helm lint --strict` passes on the chart as shipped and with the unprivileged agent. */
class ChartLintTest {

  @Test
  void lintsCleanWithDefaults() {
    Helm.Result r = Helm.helm("lint", "--strict", Helm.CHART.toString());
    assertThat(r.status()).as("helm lint:\n%s%s", r.stdout(), r.stderr()).isZero();
    assertThat(r.stdout()).contains("1 chart(s) linted, 0 chart(s) failed");
  }

  @Test
  void lintsCleanWithTheDevicePluginMode() {
    Helm.Result r =
        Helm.helm("lint", "--strict", Helm.CHART.toString(), "--set", "agent.kvmAccess=privileged");
    assertThat(r.status()).as("helm lint:\n%s%s", r.stdout(), r.stderr()).isZero();
  }

  @Test
  void notesTellTheUserWhatToApplyNext() {
    Helm.Result r =
        Helm.helm(
            "install",
            "--dry-run=client",
            Helm.RELEASE,
            Helm.CHART.toString(),
            "--namespace",
            Helm.NAMESPACE);
    r.assertSucceeded();
    String notes = r.stdout().substring(r.stdout().indexOf("NOTES:"));
    assertThat(notes)
        .contains("kubectl get microvmnodes")
        .contains("kubectl apply -f examples/hello.yaml")
        .contains("rollout status daemonset/hearth-agent");
    // Every example the notes name exists.
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("examples/[\\w.-]+\\.yaml").matcher(notes);
    int named = 0;
    while (m.find()) {
      assertThat(Helm.ROOT.resolve(m.group())).as("NOTES names %s", m.group()).isRegularFile();
      named++;
    }
    assertThat(named).isGreaterThanOrEqualTo(4);
  }
}
