package dev.hearth.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.api.v1alpha1.HearthApi;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The operator's Role lets its leader election client do what that client does: the verbs are
 * recorded from the client's own requests (fabric8's LeaseLock, which JOSDK's leader election uses:
 * get, create, then PATCH to renew), plus the ones JOSDK checks for before it starts (get, create,
 * update). On a real cluster a missing verb stopped the operator at its first renewal.
 */
@EnableKubernetesMockClient(crud = true)
class LeaderLeaseVerbsTest {
  private static final Map<String, String> VERB_OF_METHOD =
      Map.of("GET", "get", "POST", "create", "PUT", "update", "PATCH", "patch", "DELETE", "delete");

  KubernetesMockServer server;
  KubernetesClient client;

  @Test
  void theRoleGrantsEveryVerbTheLeaderElectionClientUsesOnItsLease() throws Exception {
    Set<String> used = verbsOfOneTermAndOneRenewal();
    assertThat(used).as("verbs LeaseLock sent").contains("create", "patch");
    used.addAll(Set.of("get", "create", "update")); // JOSDK's start-up access check

    Role role = Helm.render().one(Role.class, Helm.RELEASE + "-operator");
    Set<String> granted = new HashSet<>();
    for (PolicyRule r : role.getRules()) {
      boolean leases =
          r.getApiGroups().contains("coordination.k8s.io") && r.getResources().contains("leases");
      boolean thisLease =
          r.getResourceNames().isEmpty()
              || r.getResourceNames().contains(HearthApi.OPERATOR_LEADER_LEASE);
      if (leases && thisLease) {
        granted.addAll(r.getVerbs());
      }
    }
    assertThat(granted)
        .as("verbs granted on Lease %s", HearthApi.OPERATOR_LEADER_LEASE)
        .containsAll(used);
  }

  /** Drives the lock as LeaderElector does: acquire (get, create), then renew (get, patch). */
  private Set<String> verbsOfOneTermAndOneRenewal() throws InterruptedException {
    LeaseLock lock = new LeaseLock(Helm.NAMESPACE, HearthApi.OPERATOR_LEADER_LEASE, "replica-1");
    ZonedDateTime now = ZonedDateTime.now();
    assertThat(lock.get(client)).isNull();
    lock.create(client, new LeaderElectionRecord("replica-1", Duration.ofSeconds(15), now, now, 0));
    assertThat(lock.get(client)).isNotNull();
    lock.update(
        client,
        new LeaderElectionRecord("replica-1", Duration.ofSeconds(15), now, now.plusSeconds(2), 0));

    Set<String> verbs = new HashSet<>();
    RecordedRequest r;
    while ((r = server.takeRequest(1, TimeUnit.SECONDS)) != null) {
      if (r.getPath().contains("/leases")) {
        verbs.add(VERB_OF_METHOD.get(r.getMethod().toUpperCase(Locale.ROOT)));
      }
    }
    return verbs;
  }
}
