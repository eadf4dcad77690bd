package dev.hearth.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A bind write whose response never comes, and which reaches the server only after the operator has
 * read the VM back unbound. The room must stay held meanwhile, or a second VM is placed into it and
 * the node ends up overcommitted once the late write lands.
 */
class BindTimeoutTest extends OperatorTestBase {

  /**
   * Swallows every status write to one MicroVM while holding: the caller sees a timeout and the
   * server sees nothing. The first one is kept so the test can deliver it late.
   */
  static final class HoldStatusWrites implements Interceptor {
    private final String statusPath;
    final AtomicReference<HttpRequest> first = new AtomicReference<>();
    final AtomicInteger swallowed = new AtomicInteger();
    volatile boolean holding = true;

    HoldStatusWrites(String namespace, String name) {
      this.statusPath =
          "/apis/"
              + HearthApi.GROUP
              + "/v1alpha1/namespaces/"
              + namespace
              + "/microvms/"
              + name
              + "/status";
    }

    @Override
    public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
      if (holding
          && "PATCH".equals(request.method())
          && statusPath.equals(request.uri().getPath())) {
        first.compareAndSet(null, request);
        swallowed.incrementAndGet();
        throw new KubernetesClientException(
            "simulated: no response to PATCH " + statusPath + " within the request timeout");
      }
    }
  }

  private static boolean bound(MicroVM vm) {
    return vm.getStatus() != null && vm.getStatus().getNodeName() != null;
  }

  private static boolean decided(MicroVM vm) {
    return bound(vm)
        || (vm.getStatus() != null
            && vm.getStatus().condition(HearthApi.Conditions.SCHEDULED).isPresent());
  }

  @Test
  void aBindWhoseOutcomeIsUnknownKeepsItsRoomUntilItLands() {
    node("only", 2, 1024);
    HoldStatusWrites hold = new HoldStatusWrites(ns, "first");
    startOperator(operatorClient("hold", hold), config());

    client.resource(vm("first", 2, 512)).create();
    // The bind, then the error report: by the second swallowed write the operator has finished
    // handling the failed bind, including its read-back, which showed "first" unbound.
    await().atMost(TIMEOUT).until(() -> hold.swallowed.get() >= 2);
    assertThat(bound(get("first"))).isFalse();

    client.resource(vm("second", 2, 512)).create();
    MicroVM second = awaitVm("second", BindTimeoutTest::decided);
    assertThat(bound(second)).as("second VM placed into the room of an in-doubt bind").isFalse();

    // Now the first bind reaches the server, long after the operator's check.
    String lateBind = hold.first.get().bodyString();
    client
        .resources(MicroVM.class)
        .inNamespace(ns)
        .withName("first")
        .subresource("status")
        .patch(
            new PatchContext.Builder()
                .withPatchType(PatchType.SERVER_SIDE_APPLY)
                .withFieldManager(StatusApply.OPERATOR)
                .withForce(true)
                .build(),
            lateBind);
    hold.holding = false;

    awaitVm(
        "first",
        vm ->
            nodeName("only").equals(vm.getStatus().getNodeName())
                && vm.getMetadata().getLabels() != null
                && nodeName("only").equals(vm.getMetadata().getLabels().get(HearthApi.NODE_LABEL)));
    await()
        .atMost(TIMEOUT)
        .until(() -> operator.coordinator().usedOn(nodeName("only")).vcpus() == 2);
    assertThat(bound(get("second"))).isFalse();
  }
}
