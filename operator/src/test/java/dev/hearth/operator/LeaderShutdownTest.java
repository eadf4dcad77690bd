package dev.hearth.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.v1alpha1.HearthApi;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A leading replica that is closed (SIGTERM: the shutdown hook closes it) stops leading without
 * exiting the process. JOSDK's default calls System.exit there, which inside a shutdown hook blocks
 * forever, so the pod lingered until the kubelet killed it; in this test JVM it would end the run.
 */
class LeaderShutdownTest extends OperatorTestBase {

  @Test
  void closingALeaderReturnsPromptlyWithoutExiting() {
    // On the real server, with the chart's Role for the operator's Lease.
    startOperator(config().withLeaderElection(true));
    await()
        .atMost(TIMEOUT)
        .until(
            () -> {
              Lease lease =
                  client
                      .resources(Lease.class)
                      .inNamespace(ns)
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
