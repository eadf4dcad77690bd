package dev.hearth.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.Conditions;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import dev.hearth.api.v1alpha1.NetworkInterfaceStatus;
import dev.hearth.operator.network.ServiceEndpointsReconciler;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * EndpointSlices for Services that select MicroVMs, on the real API server with the chart's RBAC.
 */
class ServiceEndpointsTest extends OperatorTestBase {

  private EndpointSlice slice() {
    return client.resources(EndpointSlice.class).inNamespace(ns).withName("web-hearth").get();
  }

  private Set<String> addresses() {
    EndpointSlice s = slice();
    if (s == null) {
      return null;
    }
    if (s.getEndpoints() == null) {
      return Set.of(); // an empty list comes back as none
    }
    return s.getEndpoints().stream()
        .map(Endpoint::getAddresses)
        .flatMap(List::stream)
        .collect(Collectors.toSet());
  }

  private void labelledVm(String name, String app) {
    MicroVM vm = vm(name, 1, 128);
    vm.getMetadata().setLabels(Map.of("app", app));
    client.resource(vm).create();
  }

  private void relabel(String name, String app) {
    client
        .resources(MicroVM.class)
        .inNamespace(ns)
        .withName(name)
        .patch(
            PatchContext.of(PatchType.JSON_MERGE),
            "{\"metadata\":{\"labels\":{\"app\":\"" + app + "\"}}}");
  }

  /** What the agent reports: the address, and Ready as its probe finds it. */
  private void report(String name, String ip, boolean ready) {
    MicroVM vm = awaitVm(name, v -> v.getStatus() != null && v.getStatus().getNodeName() != null);
    MicroVMStatus s = new MicroVMStatus();
    s.setNetwork(List.of(new NetworkInterfaceStatus("eth0", ip, "02:00:00:00:00:01", "t0")));
    s.setConditions(vm.getStatus().getConditions());
    s.putCondition(
        Conditions.of(
            HearthApi.Conditions.READY,
            ready ? "True" : "False",
            ready ? "ProbeSucceeded" : "ProbeFailed",
            "test",
            vm.getMetadata().getGeneration(),
            clock.instant()));
    new StatusApply(client, StatusApply.AGENT)
        .apply(vm, s, List.of("network", "conditions"), false);
  }

  @Test
  void theSliceHoldsTheReadyVmsTheServiceSelects() {
    node("n", 8, 8192);
    startOperator(config());
    Service web =
        client
            .resource(
                new ServiceBuilder()
                    .withNewMetadata()
                    .withName("web")
                    .withNamespace(ns)
                    .endMetadata()
                    .withNewSpec()
                    .withSelector(Map.of("app", "web"))
                    .addNewPort()
                    .withName("http")
                    .withPort(80)
                    .withTargetPort(new IntOrString(8080))
                    .endPort()
                    .endSpec()
                    .build())
            .create();
    labelledVm("web-1", "web");
    labelledVm("web-2", "web");
    labelledVm("db-1", "db");

    report("web-1", "10.213.0.2", true);
    report("web-2", "10.213.0.3", false);
    report("db-1", "10.213.0.4", true);
    await().atMost(TIMEOUT).until(() -> Set.of("10.213.0.2").equals(addresses()));
    EndpointSlice s = slice();
    assertThat(s.getMetadata().getLabels())
        .containsEntry(ServiceEndpointsReconciler.SERVICE_NAME_LABEL, "web")
        .containsEntry(
            ServiceEndpointsReconciler.MANAGED_BY_LABEL, ServiceEndpointsReconciler.MANAGED_BY);
    assertThat(s.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(web.getMetadata().getUid()));
    assertThat(s.getAddressType()).isEqualTo("IPv4");
    assertThat(s.getPorts())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.getPort()).isEqualTo(8080);
              assertThat(p.getName()).isEqualTo("http");
              assertThat(p.getProtocol()).isEqualTo("TCP");
            });
    assertThat(s.getEndpoints().getFirst().getTargetRef().getName()).isEqualTo("web-1");
    assertThat(s.getEndpoints().getFirst().getNodeName()).isEqualTo(nodeName("n"));

    // Readiness moves VMs in and out.
    report("web-2", "10.213.0.3", true);
    await().atMost(TIMEOUT).until(() -> Set.of("10.213.0.2", "10.213.0.3").equals(addresses()));
    report("web-1", "10.213.0.2", false);
    await().atMost(TIMEOUT).until(() -> Set.of("10.213.0.3").equals(addresses()));

    // Relabelled, a VM leaves the Service its old labels selected, and comes back.
    relabel("web-2", "other");
    await().atMost(TIMEOUT).until(() -> Set.of().equals(addresses()));
    relabel("web-2", "web");
    await().atMost(TIMEOUT).until(() -> Set.of("10.213.0.3").equals(addresses()));

    // A restarted operator keeps the slice: its first reconciles wait for the MicroVM cache, so
    // none sees no VMs and deletes it (a recreated slice would have another uid).
    String uid = slice().getMetadata().getUid();
    stopOperator();
    startOperator(config());
    report("web-1", "10.213.0.2", true);
    await().atMost(TIMEOUT).until(() -> Set.of("10.213.0.2", "10.213.0.3").equals(addresses()));
    assertThat(slice().getMetadata().getUid()).isEqualTo(uid);
    report("web-1", "10.213.0.2", false);
    await().atMost(TIMEOUT).until(() -> Set.of("10.213.0.3").equals(addresses()));

    // A deleted VM leaves the slice.
    client
        .resources(MicroVM.class)
        .inNamespace(ns)
        .withName("web-2")
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"finalizers\":null}}");
    client.resources(MicroVM.class).inNamespace(ns).withName("web-2").delete();
    await().atMost(TIMEOUT).until(() -> Set.of().equals(addresses()));

    // A selector that no longer matches any VM: the slice goes.
    client
        .services()
        .inNamespace(ns)
        .withName("web")
        .edit(
            svc -> {
              svc.getSpec().setSelector(Map.of("app", "nothing"));
              return svc;
            });
    await().atMost(TIMEOUT).until(() -> slice() == null);
  }
}
