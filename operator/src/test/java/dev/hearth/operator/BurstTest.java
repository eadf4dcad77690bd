package dev.hearth.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * 1,000 MicroVMs created at once on nodes with room for half of them, with the operator restarted
 * in the middle of the burst: no node is overcommitted and no VM is bound twice.
 */
class BurstTest extends OperatorTestBase {
  private static final int NODES = 10;
  private static final int VCPUS_PER_NODE = 20;
  private static final int VMS = 400;

  @Test
  void hundredsOfVmsAtOnceWithARestartMidBurstNeverOvercommitNorBindTwice() throws Exception {
    for (int i = 0; i < NODES; i++) {
      node("node-" + i, VCPUS_PER_NODE, 1 << 20);
    }
    // Every change of status.nodeName seen on the wire; a second, different node is a double bind.
    Map<String, String> firstBinding = new ConcurrentHashMap<>();
    Set<String> doubleBound = ConcurrentHashMap.newKeySet();
    Watch watch =
        client
            .resources(MicroVM.class)
            .inNamespace(ns)
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, MicroVM vm) {
                    String node = vm.getStatus() == null ? null : vm.getStatus().getNodeName();
                    if (node != null) {
                      String first = firstBinding.putIfAbsent(vm.getMetadata().getName(), node);
                      if (first != null && !first.equals(node)) {
                        doubleBound.add(
                            vm.getMetadata().getName() + ": " + first + " then " + node);
                      }
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });
    startOperator(config());

    ExecutorService creators = Executors.newFixedThreadPool(8);
    try {
      List<java.util.concurrent.Future<MicroVM>> created = new java.util.ArrayList<>();
      for (int i = 0; i < VMS; i++) {
        MicroVM vm = vm("vm-" + i, 1, 64);
        created.add(creators.submit(() -> createIdempotently(vm)));
      }
      // Restart once a good part of the burst is bound, while creates are still arriving.
      await().atMost(TIMEOUT).until(() -> firstBinding.size() >= 60);
      operator.close();
      startOperator(config());
      for (var f : created) {
        f.get();
      }
    } finally {
      creators.shutdown();
    }

    int capacity = NODES * VCPUS_PER_NODE;
    await()
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> settled(capacity));
    watch.close();

    List<MicroVM> all = client.resources(MicroVM.class).inNamespace(ns).list().getItems();
    Map<String, Integer> perNode = new HashMap<>();
    for (MicroVM vm : all) {
      String node = vm.getStatus() == null ? null : vm.getStatus().getNodeName();
      if (node != null) {
        perNode.merge(node, vm.getSpec().getVcpus(), Integer::sum);
        assertThat(vm.getMetadata().getLabels()).containsEntry(HearthApi.NODE_LABEL, node);
        assertThat(vm.getMetadata().getFinalizers()).containsExactly(HearthApi.AGENT_FINALIZER);
      } else {
        assertThat(vm.getStatus().getPhase()).isEqualTo(MicroVMPhase.Pending);
        assertThat(
                vm.getStatus().condition(HearthApi.Conditions.SCHEDULED).orElseThrow().getMessage())
            .isEqualTo("0/10 nodes are available: 10 insufficient vCPUs.");
      }
    }
    assertThat(perNode).hasSize(NODES);
    assertThat(perNode.values()).allSatisfy(v -> assertThat(v).isLessThanOrEqualTo(VCPUS_PER_NODE));
    assertThat(perNode.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(capacity);
    assertThat(doubleBound).isEmpty();
  }

  /** The client retries a POST whose answer was slow; the retry then finds the VM created. */
  private MicroVM createIdempotently(MicroVM vm) {
    try {
      return client.resource(vm).create();
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      return client.resource(vm).get();
    }
  }

  /** Every VM either bound or Pending with its reason, and every slot used. */
  private boolean settled(int capacity) {
    List<MicroVM> all = client.resources(MicroVM.class).inNamespace(ns).list().getItems();
    long bound =
        all.stream()
            .filter(vm -> vm.getStatus() != null && vm.getStatus().getNodeName() != null)
            .count();
    long pending =
        all.stream()
            .filter(
                vm -> vm.getStatus() != null && vm.getStatus().getPhase() == MicroVMPhase.Pending)
            .count();
    return all.size() == VMS && bound == capacity && pending == VMS - capacity;
  }
}
