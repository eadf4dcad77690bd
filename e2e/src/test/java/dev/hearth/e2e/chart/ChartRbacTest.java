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
            Map.ofEntries(
                Map.entry(
                    "hearth.dev/microvms",
                    Set.of("get", "list", "watch", "create", "delete", "patch")),
                Map.entry("hearth.dev/microvms/status", Set.of("patch", "update")),
                Map.entry("hearth.dev/microvmsets", Set.of("get", "list", "watch")),
                Map.entry("hearth.dev/microvmsets/status", Set.of("patch")),
                Map.entry("hearth.dev/microvmsets/finalizers", Set.of("update")),
                // patch: spec.subnet, the node's guest subnet (SubnetAllocator).
                Map.entry("hearth.dev/microvmnodes", Set.of("get", "list", "watch", "patch")),
                Map.entry("hearth.dev/microvmnodes/status", Set.of("patch", "update")),
                Map.entry("core/nodes", Set.of("get", "list", "watch")),
                // ServiceEndpointsReconciler: Services selecting MicroVMs, and their slices
                // (server-side apply creates one: patch and create).
                Map.entry("core/services", Set.of("get", "list", "watch")),
                Map.entry(
                    "discovery.k8s.io/endpointslices", Set.of("get", "create", "patch", "delete")),
                Map.entry("core/events", Set.of("create", "patch"))));
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
                "hearth.dev/microvmnodes", Set.of("create", "get", "list", "watch"),
                "hearth.dev/microvmnodes/status", Set.of("patch"),
                "core/nodes", Set.of("get"),
                "core/events", Set.of("create", "patch"),
                // Its HTTPS server: the caller's token, then the caller's right, as the kubelet.
                "authentication.k8s.io/tokenreviews", Set.of("create"),
                "authorization.k8s.io/subjectaccessreviews", Set.of("create")));
  }

  @Test
  void consoleRoleGrantsTheConsoleSubresourceAndAggregatesIntoEditAndAdmin() {
    ClusterRole console = chart.one(ClusterRole.class, "hearth-console");
    assertThat(grants(console.getRules()))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "hearth.dev/microvms/console", Set.of("get", "create"),
                "hearth.dev/microvms", Set.of("get")));
    assertThat(console.getMetadata().getLabels())
        .containsEntry("rbac.authorization.k8s.io/aggregate-to-edit", "true")
        .containsEntry("rbac.authorization.k8s.io/aggregate-to-admin", "true")
        .doesNotContainKey("rbac.authorization.k8s.io/aggregate-to-view");
    // Bound by the user, never by the chart.
    assertThat(chart.all(ClusterRoleBinding.class))
        .noneMatch(b -> b.getRoleRef().getName().equals("hearth-console"));
    ClusterRole metrics = chart.one(ClusterRole.class, "hearth-metrics-reader");
    assertThat(metrics.getRules())
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.getNonResourceURLs()).containsExactly("/metrics");
              assertThat(r.getVerbs()).containsExactly("get");
            });
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
      // The one non-resource URL: reading the agents' /metrics (ClusterRole *-metrics-reader).
      assertThat(rule.getNonResourceURLs()).isSubsetOf("/metrics");
      if (!rule.getNonResourceURLs().isEmpty()) {
        assertThat(rule.getVerbs()).containsExactly("get");
      }
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
