package dev.hearth.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A node-health pass that fails is reported on the MicroVMNode: a condition and an Event. */
class NodeHealthErrorTest extends OperatorTestBase {

  /** Fails status writes to one MicroVM with a server error while {@code failing}. */
  static final class FailVmStatusWrites implements Interceptor {
    private final String statusPath;
    volatile boolean failing;

    FailVmStatusWrites(String ns, String name) {
      statusPath =
          "/apis/"
              + HearthApi.GROUP
              + "/v1alpha1/namespaces/"
              + ns
              + "/microvms/"
              + name
              + "/status";
    }

    @Override
    public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
      if (failing
          && "PATCH".equals(request.method())
          && statusPath.equals(request.uri().getPath())) {
        throw new KubernetesClientException("simulated: etcd unavailable", 500, null);
      }
    }
  }

  private Optional<Condition> healthChecked() {
    MicroVMNode n = client.resources(MicroVMNode.class).withName(nodeName("flaky")).get();
    return n.getStatus() == null
        ? Optional.empty()
        : n.getStatus().condition(HearthApi.Conditions.HEALTH_CHECKED);
  }

  private List<Event> errorEvents() {
    return client.v1().events().inNamespace("default").list().getItems().stream()
        .filter(e -> nodeName("flaky").equals(e.getInvolvedObject().getName()))
        .filter(e -> HearthApi.Reasons.RECONCILE_ERROR.equals(e.getReason()))
        .toList();
  }

  @Test
  void aFailingHealthPassSetsHealthCheckedFalseWithAnEventAndClearsItOnceItSucceeds() {
    node("flaky", 4, 4096);
    FailVmStatusWrites fail = new FailVmStatusWrites(ns, "vm1");
    startOperator(operatorClient("fail", fail), config());
    client.resource(vm("vm1", 1, 128)).create();
    awaitVm(
        "vm1",
        vm -> vm.getStatus() != null && nodeName("flaky").equals(vm.getStatus().getNodeName()));

    // The agent goes silent; marking its VM Unknown fails with a server error.
    fail.failing = true;
    clock.advance(Duration.ofSeconds(41));
    await()
        .atMost(TIMEOUT)
        .until(() -> healthChecked().map(c -> "False".equals(c.getStatus())).orElse(false));
    Condition failed = healthChecked().orElseThrow();
    assertThat(failed.getReason()).isEqualTo(HearthApi.Reasons.RECONCILE_ERROR);
    assertThat(failed.getMessage()).contains("etcd unavailable");
    await().atMost(TIMEOUT).until(() -> !errorEvents().isEmpty());
    assertThat(errorEvents().get(0).getType()).isEqualTo("Warning");
    assertThat(errorEvents().get(0).getMessage()).contains("etcd unavailable");

    fail.failing = false;
    awaitVm("vm1", vm -> vm.getStatus().getPhase() == MicroVMPhase.Unknown);
    await()
        .atMost(TIMEOUT)
        .until(() -> healthChecked().map(c -> "True".equals(c.getStatus())).orElse(false));
  }
}
