package dev.hearth.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.v1alpha1.HearthApi;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A leading replica that is closed (SIGTERM: the shutdown hook closes it) stops leading without
 * exiting the process. JOSDK's default calls System.exit there, which inside a shutdown hook blocks
 * forever, so the pod lingered until the kubelet killed it; in this test JVM it would end the run.
 */
@EnableKubernetesMockClient(crud = true)
class LeaderShutdownTest extends OperatorTestBase {
  KubernetesMockServer server;

  @Test
  void closingALeaderReturnsPromptlyWithoutExiting() {
    // JOSDK asks what it may do with Leases before it competes; the mock answers no such review.
    server
        .expect()
        .post()
        .withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .andReturn(
            201,
            new SelfSubjectRulesReviewBuilder()
                .withNewStatus()
                .addNewResourceRule()
                .withApiGroups("coordination.k8s.io")
                .withResources("leases")
                .withVerbs("get", "create", "update", "patch")
                .endResourceRule()
                .withIncomplete(false)
                .endStatus()
                .build())
        .always();
    startOperator(config().withLeaderElection(true));
    await()
        .atMost(TIMEOUT)
        .until(
            () -> {
              Lease lease =
                  client
                      .resources(Lease.class)
                      .inNamespace(client.getNamespace())
                      .withName(HearthApi.OPERATOR_LEADER_LEASE)
                      .get();
              return lease != null && lease.getSpec().getHolderIdentity() != null;
            });

    long start = System.nanoTime();
    operator.close();
    operator = null;

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
  }
}
