package dev.hearth.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Node-loss handling finds a node's VMs in the informer cache, not by listing the API server. */
class NodeLossFromCacheTest extends OperatorTestBase {

  /** Counts lists of MicroVMs by node label (other informers' lists and watches not counted). */
  static final class CountVmLists implements Interceptor {
    final AtomicInteger labelledLists = new AtomicInteger();

    @Override
    public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
      String query = request.uri().getQuery();
      if ("GET".equals(request.method())
          && request.uri().getPath().endsWith("/microvms")
          && query != null
          && query.contains("labelSelector=" + HearthApi.NODE_LABEL)
          && !query.contains("watch=true")) {
        labelledLists.incrementAndGet();
      }
    }
  }

  @Test
  void lostNodeIsEvacuatedWithoutListingVmsFromTheServer() {
    node("doomed", 4, 4096);
    CountVmLists lists = new CountVmLists();
    startOperator(operatorClient("count", lists), config());
    client.resource(vm("moves", 1, 128)).create();
    awaitVm(
        "moves",
        vm -> vm.getStatus() != null && nodeName("doomed").equals(vm.getStatus().getNodeName()));

    clock.advance(Duration.ofSeconds(41));
    awaitVm("moves", vm -> vm.getStatus().getPhase() == MicroVMPhase.Unknown);
    clock.advance(Duration.ofSeconds(61));
    awaitVm(
        "moves",
        vm ->
            vm.getStatus().getPhase() == MicroVMPhase.Pending
                && vm.getStatus().getNodeName() == null);

    assertThat(lists.labelledLists).hasValue(0);
  }
}
