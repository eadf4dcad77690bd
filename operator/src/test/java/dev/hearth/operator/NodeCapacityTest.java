package dev.hearth.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.MicroVMNodeStatus;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.NodeResources;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The scheduler packs each node to exactly what its agent says it holds: allocatable vCPUs with the
 * agent's overcommit, memory with the node's own per-VM overhead (not the operator's default), and
 * no more VMs than the node's file descriptors allow; and the operator reports how many VMs each
 * node has in status.microVMs.
 */
class NodeCapacityTest extends OperatorTestBase {

  /** Registers a node as its agent does, with everything the agent reports about room. */
  private void agentNode(
      String name,
      NodeResources capacity,
      NodeResources reserved,
      int overcommit,
      long overheadMiB,
      Integer maxVms) {
    MicroVMNode created = node(name, 1, 1, Map.of("pool", name), List.of());
    MicroVMNodeStatus s = new MicroVMNodeStatus();
    s.setCapacity(capacity);
    s.setReserved(reserved);
    s.setAllocatable(
        new NodeResources(
            (capacity.getVcpus() - reserved.getVcpus()) * overcommit,
            capacity.getMemoryMiB() - reserved.getMemoryMiB(),
            maxVms));
    s.setVcpuOvercommitRatio(overcommit);
    s.setVmOverheadMiB(overheadMiB);
    s.setAgentVersion("test");
    new StatusApply(client, StatusApply.AGENT)
        .apply(
            created,
            s,
            List.of(
                "capacity",
                "reserved",
                "allocatable",
                "vcpuOvercommitRatio",
                "vmOverheadMiB",
                "agentVersion"),
            false);
  }

  private void vms(String pool, int count, int vcpus, int memMiB) {
    for (int i = 0; i < count; i++) {
      MicroVM vm = vm(pool + "-" + i, vcpus, memMiB);
      vm.getSpec().setNodeSelector(Map.of("pool", pool));
      client.resource(vm).create();
    }
  }

  private long count(String pool, boolean bound) {
    return client.resources(MicroVM.class).inNamespace(ns).list().getItems().stream()
        .filter(vm -> vm.getMetadata().getName().startsWith(pool + "-"))
        .filter(vm -> vm.getStatus() != null && vm.getStatus().getPhase() != null)
        .filter(vm -> (vm.getStatus().getNodeName() != null) == bound)
        .count();
  }

  private String unschedulableMessage(String pool) {
    return client.resources(MicroVM.class).inNamespace(ns).list().getItems().stream()
        .filter(vm -> vm.getMetadata().getName().startsWith(pool + "-"))
        .filter(vm -> vm.getStatus().getPhase() == MicroVMPhase.Pending)
        .map(
            vm ->
                vm.getStatus().condition(HearthApi.Conditions.SCHEDULED).orElseThrow().getMessage())
        .findFirst()
        .orElseThrow();
  }

  @Test
  void eachNodeIsPackedToExactlyWhatItsAgentReports() {
    // vCPUs: (3 - 1) x 3 = 6 guest vCPUs, memory plenty.
    agentNode("cpu", new NodeResources(3, 65536), new NodeResources(1, 0), 3, 0, null);
    // Memory: 1000 MiB for VMs at 150 + 100 MiB overhead each: 4, where the operator's own
    // default overhead (0 here) would have let 6 in.
    agentNode("mem", new NodeResources(64, 1100), new NodeResources(0, 100), 1, 100, null);
    // File descriptors: 3 VMs, whatever the room.
    agentNode("fds", new NodeResources(64, 65536), new NodeResources(0, 0), 1, 0, 3);
    startOperator(config());
    vms("cpu", 8, 1, 64);
    vms("mem", 6, 1, 150);
    vms("fds", 5, 1, 64);

    await().atMost(TIMEOUT).until(() -> count("cpu", true) + count("cpu", false) == 8);
    await().atMost(TIMEOUT).until(() -> count("mem", true) + count("mem", false) == 6);
    await().atMost(TIMEOUT).until(() -> count("fds", true) + count("fds", false) == 5);
    assertThat(count("cpu", true)).isEqualTo(6);
    assertThat(count("mem", true)).isEqualTo(4);
    assertThat(count("fds", true)).isEqualTo(3);
    assertThat(unschedulableMessage("cpu")).contains("insufficient vCPUs");
    assertThat(unschedulableMessage("mem")).contains("insufficient memory");
    assertThat(unschedulableMessage("fds")).contains("node(s) full (their most MicroVMs)");

    // The VMs column: what the operator counts bound on each node.
    for (var e : Map.of("cpu", 6, "mem", 4, "fds", 3).entrySet()) {
      await()
          .atMost(TIMEOUT)
          .until(
              () -> {
                MicroVMNode n =
                    client.resources(MicroVMNode.class).withName(nodeName(e.getKey())).get();
                return Integer.valueOf(e.getValue()).equals(n.getStatus().getMicroVMs());
              });
    }
    // The operator's writes left the agent's fields alone.
    MicroVMNode mem = client.resources(MicroVMNode.class).withName(nodeName("mem")).get();
    assertThat(mem.getStatus().getVmOverheadMiB()).isEqualTo(100);
    assertThat(mem.getStatus().getReserved()).isEqualTo(new NodeResources(0, 100));
  }
}
