package dev.hearth.operator.bench;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.operator.scheduling.Resources;
import dev.hearth.operator.scheduling.SchedulerConfig;
import dev.hearth.operator.support.MicroVMs;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Watches a benchmark's MicroVMs on the wire and checks the end state: when each VM became fully
 * bound (status.nodeName, node label and agent finalizer), that none ever moved to a second node
 * (bound twice), and that no node holds more than its allocatable.
 */
final class BindingAudit implements AutoCloseable {
  private final Map<String, Long> createdAt = new ConcurrentHashMap<>();
  private final Map<String, Long> boundAt = new ConcurrentHashMap<>();
  private final Map<String, String> firstNode = new ConcurrentHashMap<>();
  private final Set<String> boundTwice = ConcurrentHashMap.newKeySet();
  private final Watch watch;

  BindingAudit(KubernetesClient client, String namespace) {
    watch =
        client
            .resources(MicroVM.class)
            .inNamespace(namespace)
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, MicroVM vm) {
                    observe(vm);
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });
  }

  /** Call just before creating the VM. */
  void creating(String name) {
    createdAt.put(name, System.nanoTime());
  }

  int boundCount() {
    return boundAt.size();
  }

  /** Create-to-bound latency of every bound VM, in nanoseconds, sorted. */
  long[] latencies() {
    return boundAt.entrySet().stream()
        .mapToLong(e -> e.getValue() - createdAt.getOrDefault(e.getKey(), e.getValue()))
        .sorted()
        .toArray();
  }

  private void observe(MicroVM vm) {
    String name = vm.getMetadata().getName();
    String node = MicroVMs.boundNode(vm);
    if (node == null) {
      return;
    }
    String first = firstNode.putIfAbsent(name, node);
    if (first != null && !first.equals(node)) {
      boundTwice.add(name + ": " + first + " then " + node);
    }
    if (MicroVMs.hasNodeLabel(vm, node) && MicroVMs.hasAgentFinalizer(vm)) {
      boundAt.putIfAbsent(name, System.nanoTime());
    }
  }

  /**
   * Lists what the API server holds and returns every problem found: a VM not fully bound, one
   * bound twice, a node past its allocatable (VMM overhead included). Empty means all is well.
   */
  List<String> problems(KubernetesClient client, String namespace, SchedulerConfig scheduler) {
    List<String> problems =
        new ArrayList<>(boundTwice.stream().map(s -> "bound twice " + s).toList());
    Map<String, Resources> used = new HashMap<>();
    for (MicroVM vm : client.resources(MicroVM.class).inNamespace(namespace).list().getItems()) {
      String node = MicroVMs.boundNode(vm);
      if (node == null
          || !MicroVMs.hasNodeLabel(vm, node)
          || !MicroVMs.hasAgentFinalizer(vm)
          || vm.getMetadata().getFinalizers().stream()
                  .filter(HearthApi.AGENT_FINALIZER::equals)
                  .count()
              != 1) {
        problems.add("not bound exactly once: " + MicroVMs.key(vm));
        continue;
      }
      used.merge(node, MicroVMs.footprint(vm, scheduler), Resources::plus);
    }
    for (MicroVMNode n : client.resources(MicroVMNode.class).list().getItems()) {
      var alloc = n.getStatus().getAllocatable();
      Resources u = used.getOrDefault(n.getMetadata().getName(), Resources.ZERO);
      if (u.vcpus() > alloc.getVcpus() || u.memoryMiB() > alloc.getMemoryMiB()) {
        problems.add("node " + n.getMetadata().getName() + " overcommitted: " + u + " on " + alloc);
      }
    }
    return problems;
  }

  @Override
  public void close() {
    watch.close();
  }
}
