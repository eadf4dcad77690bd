package dev.hearth.operator;

import static dev.hearth.operator.Fixtures.NS;
import static dev.hearth.operator.Fixtures.node;
import static dev.hearth.operator.Fixtures.vm;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A node-health pass that fails is reported on the MicroVMNode: a condition and an Event. */
@EnableKubernetesMockClient(crud = true)
class NodeHealthErrorTest extends OperatorTestBase {

  /** Fails status writes to one MicroVM with a server error while {@code failing}. */
  static final class FailVmStatusWrites implements Interceptor {
    private final String statusPath;
    volatile boolean failing;

    FailVmStatusWrites(String name) {
      statusPath =
          "/apis/"
              + HearthApi.GROUP
              + "/v1alpha1/namespaces/"
              + NS
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

  private KubernetesClient operatorClient;

  @AfterEach
  void closeOperatorClient() {
    stopOperator();
    if (operatorClient != null) {
      operatorClient.close();
    }
  }

  private Optional<Condition> healthChecked() {
    MicroVMNode n = client.resources(MicroVMNode.class).withName("flaky").get();
    return n.getStatus() == null
        ? Optional.empty()
        : n.getStatus().condition(HearthApi.Conditions.HEALTH_CHECKED);
  }

  private List<Event> errorEvents() {
    return client.v1().events().inNamespace("default").list().getItems().stream()
        .filter(e -> "flaky".equals(e.getInvolvedObject().getName()))
        .filter(e -> HearthApi.Reasons.RECONCILE_ERROR.equals(e.getReason()))
        .toList();
  }

  @Test
  void aFailingHealthPassSetsHealthCheckedFalseWithAnEventAndClearsItOnceItSucceeds() {
    node(client, clock, "flaky", 4, 4096);
    FailVmStatusWrites fail = new FailVmStatusWrites("vm1");
    operatorClient =
        new KubernetesClientBuilder()
            .withConfig(client.getConfiguration())
            .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("fail", fail))
            .build();
    registry = new SimpleMeterRegistry();
    operator = new HearthOperator(operatorClient, config(), clock, registry);
    operator.start();
    client.resource(vm("vm1", 1, 128)).create();
    awaitVm("vm1", vm -> vm.getStatus() != null && "flaky".equals(vm.getStatus().getNodeName()));

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
