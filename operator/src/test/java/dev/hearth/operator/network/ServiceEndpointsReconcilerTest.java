package dev.hearth.operator.network;

import static dev.hearth.operator.network.ServiceEndpointsReconciler.changesEndpoints;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.api.v1alpha1.Conditions;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import dev.hearth.api.v1alpha1.NetworkInterfaceStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which MicroVM changes reconcile the Services that select it. */
class ServiceEndpointsReconcilerTest {
  private static MicroVM vm(String app, String ip, boolean ready, MicroVMPhase phase) {
    MicroVM vm = new MicroVM();
    vm.setMetadata(
        new ObjectMetaBuilder()
            .withName("a")
            .withNamespace("ns")
            .withLabels(Map.of("app", app))
            .build());
    MicroVMStatus s = new MicroVMStatus();
    s.setNodeName("n");
    s.setPhase(phase);
    s.setNetwork(List.of(new NetworkInterfaceStatus("eth0", ip, "02:00:00:00:00:01", "t0")));
    s.putCondition(
        Conditions.of(
            HearthApi.Conditions.READY, ready ? "True" : "False", "Probe", "", 1L, Instant.EPOCH));
    vm.setStatus(s);
    return vm;
  }

  @Test
  void onlyWhatASliceShowsOfAVmReconcilesItsServices() {
    MicroVM ready = vm("web", "10.0.0.2", true, MicroVMPhase.Running);
    assertThat(changesEndpoints(null, ready)).isTrue();
    assertThat(changesEndpoints(ready, null)).isTrue();
    // A status write that changes neither address, readiness, node nor labels: nothing to do.
    assertThat(changesEndpoints(ready, vm("web", "10.0.0.2", true, MicroVMPhase.Starting)))
        .isFalse();
    assertThat(changesEndpoints(ready, vm("web", "10.0.0.2", false, MicroVMPhase.Running)))
        .isTrue();
    assertThat(changesEndpoints(ready, vm("web", "10.0.0.3", true, MicroVMPhase.Running))).isTrue();
    assertThat(changesEndpoints(ready, vm("db", "10.0.0.2", true, MicroVMPhase.Running))).isTrue();
    MicroVM moved = vm("web", "10.0.0.2", true, MicroVMPhase.Running);
    moved.getStatus().setNodeName("m");
    assertThat(changesEndpoints(ready, moved)).isTrue();
    MicroVM deleting = vm("web", "10.0.0.2", true, MicroVMPhase.Running);
    deleting.getMetadata().setDeletionTimestamp("2026-12-05T00:00:00Z");
    assertThat(changesEndpoints(ready, deleting)).isTrue();
  }
}
