package dev.hearth.operator.network;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.operator.support.MicroVMs;
import dev.hearth.operator.support.SharedMicroVMs;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Puts MicroVMs behind the Services that select them: for each Service whose selector matches
 * MicroVM labels, one EndpointSlice ({@code <service>-hearth}, label {@value #MANAGED_BY_LABEL}
 * {@value #MANAGED_BY}) with the address of every Ready MicroVM it selects, owned by the Service.
 * kube-proxy and cluster DNS read it beside the slices Kubernetes keeps for the Service's pods.
 * MicroVMs come from the MicroVM controller's informer ({@link SharedMicroVMs}), not one of its
 * own.
 */
@ControllerConfiguration(name = "service-endpoints", generationAwareEventProcessing = false)
public final class ServiceEndpointsReconciler implements Reconciler<Service> {
  /** The EndpointSlice label saying which controller keeps the slice. */
  public static final String MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";

  /** Its value on Hearth's slices. */
  public static final String MANAGED_BY = "hearth.dev";

  /** The EndpointSlice label naming its Service. */
  public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

  /** A slice holds at most this many endpoints (Kubernetes' own default per slice is 100). */
  static final int MAX_ENDPOINTS = 1000;

  private static final String FIELD_MANAGER = "hearth-operator";

  private final KubernetesClient client;
  private final SharedMicroVMs vms;

  public ServiceEndpointsReconciler(KubernetesClient client, SharedMicroVMs vms) {
    this.client = client;
    this.vms = vms;
  }

  @Override
  public List<EventSource<?, Service>> prepareEventSources(EventSourceContext<Service> context) {
    // A VM maps to every Service of its namespace whose selector its labels match (before and
    // after the change), and only a change to what a slice shows of it matters.
    return List.of(
        vms.<Service>follow(
            "selected-microvms",
            vm -> servicesSelecting(vm, context),
            ServiceEndpointsReconciler::changesEndpoints));
  }

  /**
   * Whether going from {@code old} to {@code now} (either null: added, deleted) can change a slice:
   * the labels that select the VM, or what its endpoint shows (address when Ready, node,
   * terminating). Status writes that change none of these (phase, other conditions, the agent's
   * heartbeats) reconcile no Service.
   */
  static boolean changesEndpoints(MicroVM old, MicroVM now) {
    if (old == null || now == null) {
      return true;
    }
    return !labels(old).equals(labels(now))
        || !Objects.equals(readyAddress(old), readyAddress(now))
        || !Objects.equals(MicroVMs.boundNode(old), MicroVMs.boundNode(now))
        || MicroVMs.deleting(old) != MicroVMs.deleting(now);
  }

  private static Set<ResourceID> servicesSelecting(
      MicroVM vm, EventSourceContext<Service> context) {
    String ns = vm.getMetadata().getNamespace();
    Map<String, String> labels = labels(vm);
    return context
        .getPrimaryCache()
        .list(ns, s -> selects(s, labels))
        .map(ResourceID::fromResource)
        .collect(Collectors.toSet());
  }

  private static Map<String, String> labels(MicroVM vm) {
    return vm.getMetadata().getLabels() == null ? Map.of() : vm.getMetadata().getLabels();
  }

  /** Whether the Service has a selector, and {@code labels} satisfy it. */
  static boolean selects(Service s, Map<String, String> labels) {
    Map<String, String> selector = s.getSpec() == null ? null : s.getSpec().getSelector();
    return selector != null
        && !selector.isEmpty()
        && selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
  }

  @Override
  public UpdateControl<Service> reconcile(Service service, Context<Service> context) {
    String ns = service.getMetadata().getNamespace();
    String sliceName = sliceName(service);
    var slices = client.resources(EndpointSlice.class).inNamespace(ns);
    List<MicroVM> selected =
        vms.list(ns, vm -> selects(service, labels(vm)))
            .sorted(Comparator.comparing(vm -> vm.getMetadata().getName()))
            .toList();
    if (selected.isEmpty()) {
      // Not (or no longer) a Service of MicroVMs: leave no slice of ours behind.
      if (slices.withName(sliceName).get() != null) {
        slices.withName(sliceName).delete();
      }
      return UpdateControl.noUpdate();
    }
    slices
        .resource(slice(service, selected))
        .forceConflicts()
        .fieldManager(FIELD_MANAGER)
        .serverSideApply();
    return UpdateControl.noUpdate();
  }

  static String sliceName(Service service) {
    String name = service.getMetadata().getName();
    // Service names are DNS labels of at most 63 characters; the suffix keeps it under 253.
    return name + "-hearth";
  }

  /** The slice for {@code selected}: Ready VMs with an address, ready; the rest left out. */
  EndpointSlice slice(Service service, List<MicroVM> selected) {
    List<Endpoint> endpoints = new ArrayList<>();
    for (MicroVM vm : selected) {
      String ip = readyAddress(vm);
      if (ip == null || endpoints.size() == MAX_ENDPOINTS) {
        continue;
      }
      endpoints.add(
          new EndpointBuilder()
              .withAddresses(ip)
              .withNewConditions()
              .withReady(true)
              .withServing(true)
              .withTerminating(vm.getMetadata().getDeletionTimestamp() != null)
              .endConditions()
              .withNodeName(vm.getStatus().getNodeName())
              .withNewTargetRef()
              .withApiVersion(vm.getApiVersion())
              .withKind(vm.getKind())
              .withNamespace(vm.getMetadata().getNamespace())
              .withName(vm.getMetadata().getName())
              .withUid(vm.getMetadata().getUid())
              .endTargetRef()
              .build());
    }
    return new EndpointSliceBuilder()
        .withNewMetadata()
        .withName(sliceName(service))
        .withNamespace(service.getMetadata().getNamespace())
        .addToLabels(SERVICE_NAME_LABEL, service.getMetadata().getName())
        .addToLabels(MANAGED_BY_LABEL, MANAGED_BY)
        .withOwnerReferences(
            new OwnerReferenceBuilder()
                .withApiVersion("v1")
                .withKind("Service")
                .withName(service.getMetadata().getName())
                .withUid(service.getMetadata().getUid())
                .withController(true)
                .build())
        .endMetadata()
        .withAddressType("IPv4")
        .withEndpoints(endpoints)
        .withPorts(ports(service))
        .build();
  }

  /**
   * The VM's first address, if it is Ready and not being deleted: a Ready condition that is True
   * (the agent's readiness probe, or the guest running when the spec has no probe).
   */
  static String readyAddress(MicroVM vm) {
    var s = vm.getStatus();
    if (s == null
        || vm.getMetadata().getDeletionTimestamp() != null
        || s.getNetwork() == null
        || s.getNetwork().isEmpty()
        || s.getNetwork().getFirst().getIp() == null
        || s.getConditions() == null) {
      return null;
    }
    boolean ready =
        s.getConditions().stream()
            .anyMatch(
                c ->
                    HearthApi.Conditions.READY.equals(c.getType())
                        && HearthApi.Conditions.TRUE.equals(c.getStatus()));
    return ready ? s.getNetwork().getFirst().getIp() : null;
  }

  /**
   * One port per Service port, on the Service's targetPort: a number, or the port itself when none
   * is given. A named targetPort names a container port, which a VM has not; it is left out.
   */
  static List<EndpointPort> ports(Service service) {
    List<EndpointPort> out = new ArrayList<>();
    for (ServicePort p : service.getSpec().getPorts()) {
      Integer port = p.getPort();
      if (p.getTargetPort() != null) {
        if (p.getTargetPort().getIntVal() == null) {
          continue;
        }
        port = p.getTargetPort().getIntVal();
      }
      out.add(
          new EndpointPortBuilder()
              .withName(p.getName() == null ? "" : p.getName())
              .withPort(port)
              .withProtocol(p.getProtocol() == null ? "TCP" : p.getProtocol())
              .withAppProtocol(p.getAppProtocol())
              .build());
    }
    return out;
  }
}
