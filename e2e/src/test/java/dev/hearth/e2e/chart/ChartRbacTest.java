package dev.hearth.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each component gets exactly the verbs on exactly the resources it uses (the list in issue 8 and
 * DESIGN.md): a missing verb breaks it in a real cluster, an extra one widens what a compromised
 * pod could do.
 */
class ChartRbacTest {
  private static Rendered chart;

  @BeforeAll
  static void render() {
    chart = Helm.render();
  }

  @Test
  void operatorClusterRoleGrantsWhatTheSchedulerNodeHealthAndSetsUse() {
    assertThat(grants(chart.one(ClusterRole.class, "hearth-operator").getRules()))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "hearth.dev/microvms", Set.of("get", "list", "watch", "create", "delete", "patch"),
                "hearth.dev/microvms/status", Set.of("patch", "update"),
                "hearth.dev/microvmsets", Set.of("get", "list", "watch"),
                "hearth.dev/microvmsets/status", Set.of("patch"),
                "hearth.dev/microvmsets/finalizers", Set.of("update"),
                "hearth.dev/microvmnodes", Set.of("get", "list", "watch"),
                "hearth.dev/microvmnodes/status", Set.of("patch", "update"),
                "core/nodes", Set.of("get", "list", "watch"),
                "core/events", Set.of("create", "patch")));
  }

  @Test
  void operatorRenewsOnlyItsOwnLeaderLeaseAndReadsNodeLeasesInItsNamespace() {
    Role role = chart.one(Role.class, "hearth-operator");
    assertThat(role.getMetadata().getNamespace()).isEqualTo(Helm.NAMESPACE);
    assertThat(role.getRules())
        .anySatisfy(
            r -> {
              assertThat(r.getResources()).containsExactly("leases");
              assertThat(r.getResourceNames()).isEmpty();
              assertThat(r.getVerbs()).containsExactlyInAnyOrder("get", "list", "watch", "create");
            })
        .anySatisfy(
            r -> {
              assertThat(r.getResources()).containsExactly("leases");
              // HearthApi.OPERATOR_LEADER_LEASE
              assertThat(r.getResourceNames()).containsExactly("hearth-operator-leader");
              // update: JOSDK checks for it; patch: fabric8's LeaseLock renews with PATCH
              // (LeaderLeaseVerbsTest records what it sends).
              assertThat(r.getVerbs()).containsExactlyInAnyOrder("update", "patch");
            })
        .hasSize(2);
    assertThat(grants(role.getRules())).containsOnlyKeys("coordination.k8s.io/leases");
  }

  @Test
  void agentClusterRoleGrantsWhatRunningItsNodesVmsUses() {
    assertThat(grants(chart.one(ClusterRole.class, "hearth-agent").getRules()))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "hearth.dev/microvms", Set.of("get", "list", "watch", "patch"),
                "hearth.dev/microvms/status", Set.of("patch"),
                // NodeRegistration: get and create its MicroVMNode, then JSON-patch its status.
                "hearth.dev/microvmnodes", Set.of("create", "get"),
                "hearth.dev/microvmnodes/status", Set.of("patch"),
                "core/nodes", Set.of("get"),
                "core/events", Set.of("create", "patch")));
  }

  @Test
  void agentReadsSecretsByNameOnlyWhenPullSecretsAreEnabled() {
    Rendered enabled = Helm.render("--set", "agent.images.pullSecrets=true");
    Map<String, Set<String>> grants =
        grants(enabled.one(ClusterRole.class, "hearth-agent").getRules());
    // get alone: never list or watch, which would hand every Secret of the cluster to each node.
    assertThat(grants).containsEntry("core/secrets", Set.of("get"));
    assertThat(grants.keySet().stream().filter(k -> k.contains("secrets"))).hasSize(1);
    assertThat(grants(enabled.one(ClusterRole.class, "hearth-operator").getRules()))
        .doesNotContainKey("core/secrets");
  }

  @Test
  void agentRenewsItsNodeLeaseInTheReleaseNamespace() {
    Role role = chart.one(Role.class, "hearth-agent");
    assertThat(role.getMetadata().getNamespace()).isEqualTo(Helm.NAMESPACE);
    assertThat(grants(role.getRules()))
        .containsExactlyEntriesOf(
            Map.of("coordination.k8s.io/leases", Set.of("create", "get", "update")));
  }

  @Test
  void noRuleUsesAWildcardOrTouchesSecrets() {
    List<PolicyRule> rules =
        Stream.concat(
                chart.all(ClusterRole.class).stream().flatMap(r -> r.getRules().stream()),
                chart.all(Role.class).stream().flatMap(r -> r.getRules().stream()))
            .toList();
    assertThat(rules).hasSizeGreaterThan(10);
    for (PolicyRule rule : rules) {
      assertThat(
              Stream.of(rule.getApiGroups(), rule.getResources(), rule.getVerbs())
                  .flatMap(List::stream))
          .as("rule %s", rule)
          .doesNotContain("*")
          .doesNotContain("secrets")
          .doesNotContain("escalate", "bind", "impersonate");
      assertThat(rule.getNonResourceURLs()).isEmpty();
    }
  }

  @Test
  void eachRoleIsBoundToItsOwnComponentsServiceAccountOnly() {
    for (String component : List.of("operator", "agent")) {
      String name = "hearth-" + component;
      Subject expected = new Subject(null, "ServiceAccount", name, Helm.NAMESPACE);
      ClusterRoleBinding crb = chart.one(ClusterRoleBinding.class, name);
      assertThat(crb.getRoleRef().getName()).isEqualTo(name);
      assertThat(crb.getRoleRef().getKind()).isEqualTo("ClusterRole");
      assertThat(crb.getSubjects()).containsExactly(expected);
      RoleBinding rb = chart.one(RoleBinding.class, name);
      assertThat(rb.getRoleRef().getName()).isEqualTo(name);
      assertThat(rb.getRoleRef().getKind()).isEqualTo("Role");
      assertThat(rb.getSubjects()).containsExactly(expected);
      assertThat(chart.one("ServiceAccount", name).getMetadata().getNamespace())
          .isEqualTo(Helm.NAMESPACE);
    }
    assertThat(chart.operator().getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo("hearth-operator");
    assertThat(chart.agent().getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo("hearth-agent");
  }

  @Test
  void rbacCanBeLeftToTheUser() {
    Rendered without = Helm.render("--set", "rbac.create=false");
    assertThat(without.all(ClusterRole.class)).isEmpty();
    assertThat(without.all(Role.class)).isEmpty();
    assertThat(without.all(ClusterRoleBinding.class)).isEmpty();
    assertThat(without.all(RoleBinding.class)).isEmpty();
  }

  /** "group/resource" to the union of verbs granted on it ("core" for the core group). */
  static Map<String, Set<String>> grants(List<PolicyRule> rules) {
    Map<String, Set<String>> grants = new TreeMap<>();
    for (PolicyRule rule : rules) {
      for (String group : rule.getApiGroups()) {
        for (String resource : rule.getResources()) {
          grants
              .computeIfAbsent(
                  (group.isEmpty() ? "core" : group) + "/" + resource, k -> new TreeSet<>())
              .addAll(rule.getVerbs());
        }
      }
    }
    return grants;
  }
}
