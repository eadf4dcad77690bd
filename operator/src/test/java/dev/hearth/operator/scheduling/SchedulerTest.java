package dev.hearth.operator.scheduling;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SchedulerTest {
  private static final SchedulerConfig SPREAD =
      new SchedulerConfig(SchedulingStrategy.SPREAD, 32, 0);
  private static final SchedulerConfig PACK = new SchedulerConfig(SchedulingStrategy.PACK, 32, 0);

  private final Map<String, Resources> used = new HashMap<>();

  private static NodeCandidate node(String name, int vcpus, long mem) {
    return new NodeCandidate(name, true, false, Map.of(), List.of(), new Resources(vcpus, mem));
  }

  private static VmRequest vm(int vcpus, long mem) {
    return new VmRequest("ns/vm", SPREAD.footprint(vcpus, mem), Map.of(), List.of(), null);
  }

  private Decision decide(SchedulerConfig cfg, VmRequest vm, NodeCandidate... nodes) {
    return new Scheduler(cfg).decide(vm, List.of(nodes), n -> used.getOrDefault(n, Resources.ZERO));
  }

  @Test
  void spreadPicksTheEmptiestNodeAndPackTheFullest() {
    used.put("a", new Resources(6, 6000));
    used.put("b", new Resources(1, 1000));
    NodeCandidate a = node("a", 8, 8192);
    NodeCandidate b = node("b", 8, 8192);
    assertThat(decide(SPREAD, vm(1, 128), a, b)).isEqualTo(new Decision.Bind("b"));
    assertThat(decide(PACK, vm(1, 128), a, b)).isEqualTo(new Decision.Bind("a"));
  }

  @Test
  void fitCountsWhatIsBoundAndTheVmmOverhead() {
    // 1024 MiB free; a 1000 MiB guest plus 32 MiB overhead does not fit, 992 does.
    used.put("a", new Resources(0, 7168));
    NodeCandidate a = node("a", 8, 8192);
    assertThat(decide(SPREAD, vm(1, 1000), a))
        .isEqualTo(new Decision.Unschedulable("0/1 nodes are available: 1 insufficient memory."));
    assertThat(decide(SPREAD, vm(1, 992), a)).isEqualTo(new Decision.Bind("a"));
    used.put("a", new Resources(8, 0));
    assertThat(decide(SPREAD, vm(1, 16), a))
        .isEqualTo(new Decision.Unschedulable("0/1 nodes are available: 1 insufficient vCPUs."));
  }

  @Test
  void notReadyUnschedulableAndUnreportedNodesAreSkipped() {
    var notReady =
        new NodeCandidate("n1", false, false, Map.of(), List.of(), new Resources(8, 8192));
    var cordoned = new NodeCandidate("n2", true, true, Map.of(), List.of(), new Resources(8, 8192));
    var unreported = new NodeCandidate("n3", true, false, Map.of(), List.of(), null);
    Decision d = decide(SPREAD, vm(1, 128), notReady, cordoned, unreported);
    assertThat(d)
        .isEqualTo(
            new Decision.Unschedulable(
                "0/3 nodes are available: 1 node(s) not Ready, 1 node(s) unschedulable,"
                    + " 1 node(s) without reported allocatable resources."));
    // Reasons are sorted, so equal situations give equal messages.
  }

  @Test
  void nodeSelectorMustMatchEveryLabel() {
    var ssd =
        new NodeCandidate(
            "ssd",
            true,
            false,
            Map.of("disk", "ssd", "zone", "a"),
            List.of(),
            new Resources(8, 8192));
    var hdd =
        new NodeCandidate(
            "hdd",
            true,
            false,
            Map.of("disk", "hdd", "zone", "a"),
            List.of(),
            new Resources(8, 8192));
    var req =
        new VmRequest(
            "ns/vm", SPREAD.footprint(1, 128), Map.of("disk", "ssd", "zone", "a"), List.of(), null);
    assertThat(decide(SPREAD, req, hdd, ssd)).isEqualTo(new Decision.Bind("ssd"));
    var none =
        new VmRequest("ns/vm", SPREAD.footprint(1, 128), Map.of("disk", "nvme"), List.of(), null);
    assertThat(decide(SPREAD, none, hdd, ssd))
        .isEqualTo(
            new Decision.Unschedulable(
                "0/2 nodes are available: 2 node(s) didn't match nodeSelector."));
  }

  @Test
  void taintsMustBeTolerated() {
    Taint gpu = new Taint("NoSchedule", "dedicated", null, "gpu");
    var tainted =
        new NodeCandidate("t", true, false, Map.of(), List.of(gpu), new Resources(8, 8192));
    assertThat(decide(SPREAD, vm(1, 128), tainted))
        .isEqualTo(
            new Decision.Unschedulable(
                "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated=gpu:NoSchedule}."));
    var tolerating =
        new VmRequest(
            "ns/vm",
            SPREAD.footprint(1, 128),
            Map.of(),
            List.of(new Toleration("NoSchedule", "dedicated", "Equal", null, "gpu")),
            null);
    assertThat(decide(SPREAD, tolerating, tainted)).isEqualTo(new Decision.Bind("t"));
    // PreferNoSchedule never filters.
    var soft =
        new NodeCandidate(
            "s",
            true,
            false,
            Map.of(),
            List.of(new Taint("PreferNoSchedule", "x", null, "y")),
            new Resources(8, 8192));
    assertThat(decide(SPREAD, vm(1, 128), soft)).isEqualTo(new Decision.Bind("s"));
  }

  @Test
  void pinnedVmGoesOnlyToItsNode() {
    NodeCandidate a = node("a", 8, 8192);
    NodeCandidate b = node("b", 8, 8192);
    used.put("a", new Resources(7, 0));
    var pinned = new VmRequest("ns/vm", SPREAD.footprint(1, 128), Map.of(), List.of(), "a");
    assertThat(decide(SPREAD, pinned, a, b)).isEqualTo(new Decision.Bind("a"));
    used.put("a", new Resources(8, 0));
    assertThat(decide(SPREAD, pinned, a, b))
        .isEqualTo(new Decision.Unschedulable("0/1 nodes are available: 1 insufficient vCPUs."));
    var missing = new VmRequest("ns/vm", SPREAD.footprint(1, 128), Map.of(), List.of(), "zz");
    assertThat(decide(SPREAD, missing, a, b))
        .isEqualTo(new Decision.Unschedulable("node zz named by spec.nodeName has no MicroVMNode"));
  }

  @Test
  void noNodesAtAllSaysSo() {
    assertThat(decide(SPREAD, vm(1, 128)))
        .isEqualTo(
            new Decision.Unschedulable("0/0 nodes are available: no MicroVMNode is registered"));
  }

  @Test
  void tiesBreakByNodeName() {
    assertThat(decide(SPREAD, vm(1, 128), node("b", 4, 4096), node("a", 4, 4096)))
        .isEqualTo(new Decision.Bind("a"));
  }
}
