package dev.hearth.e2e.system;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.operator.HearthOperator;
import dev.hearth.operator.OperatorConfig;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.FieldValidateable.Validation;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The whole system in one JVM: an API server ({@link ApiServer}), the Hearth CRDs from {@code
 * crds/yaml}, the operator (JOSDK, as {@code OperatorCommand} wires it) and any number of node
 * agents ({@link AgentNode}). Scenarios apply objects and watch them through the administrator's
 * client.
 */
final class HearthSystem implements AutoCloseable {
  /** Generous: the build machines are shared and the VMs may run under nested emulation. */
  static final Duration PATIENCE = Duration.ofSeconds(120);

  private final ApiServer api;
  private final HearthOperator operator;
  private final KubernetesClient operatorClient;
  private final List<AgentNode> nodes = new ArrayList<>();
  private final List<String> namespaces = new ArrayList<>();
  private final KubeletNodes kubeletNodes;

  private HearthSystem(ApiServer api, HearthOperator operator, KubernetesClient opClient) {
    this.api = api;
    this.kubeletNodes = new KubeletNodes(api.client());
    this.operator = operator;
    this.operatorClient = opClient;
  }

  /**
   * Prepares the shared real API server (or KUBECONFIG's cluster: {@link ApiServer}) and starts the
   * operator on it with the chart's operator token, electing itself leader in the release namespace
   * as the chart's Deployment does.
   */
  static HearthSystem start() {
    return start(ApiServer.start());
  }

  /** As {@link #start()}, on an API server already prepared; closing the system closes it. */
  static HearthSystem start(ApiServer api) {
    return start(api, Duration.ofSeconds(60));
  }

  /** As {@link #start(ApiServer)}, with the operator's node-loss grace period {@code grace}. */
  static HearthSystem start(ApiServer api, Duration grace) {
    KubernetesClient opClient = null;
    try {
      opClient = api.operatorClient();
      OperatorConfig d = OperatorConfig.defaults();
      OperatorConfig config =
          new OperatorConfig(
                  d.namespaces(),
                  api.releaseNamespace(),
                  d.scheduler(),
                  d.nodeGracePeriod(),
                  d.pendingRetry(),
                  d.nodeRecheck(),
                  true,
                  api.releaseNamespace(),
                  d.reconcileThreads(),
                  0)
              .withTimings(grace, Duration.ofMillis(500), Duration.ofSeconds(1));
      HearthOperator operator =
          new HearthOperator(opClient, config, Clock.systemUTC(), new SimpleMeterRegistry());
      operator.start();
      return new HearthSystem(api, operator, opClient);
    } catch (RuntimeException | Error e) {
      if (opClient != null) {
        opClient.close();
      }
      api.close();
      throw e;
    }
  }

  ApiServer api() {
    return api;
  }

  KubernetesClient client() {
    return api.client();
  }

  /** Starts a node agent and waits until the operator may place VMs on it. */
  AgentNode addNode(AgentNode.Spec spec) throws Exception {
    return addNode(spec, api::agentClient, HearthApi.DEFAULT_LEASE_DURATION_SECONDS);
  }

  /**
   * As {@link #addNode(AgentNode.Spec)}, the agent connecting through {@code clients} (for example
   * by way of a proxy the test can cut) with a node Lease of {@code leaseSeconds}.
   */
  AgentNode addNode(
      AgentNode.Spec spec, java.util.function.Supplier<KubernetesClient> clients, int leaseSeconds)
      throws Exception {
    AgentNode node = AgentNode.start(api, spec, clients, leaseSeconds);
    nodes.add(node);
    return node;
  }

  /**
   * A fresh namespace for one scenario, {@code prefix} and a random suffix (deleted again at the
   * end); returns its name.
   */
  String namespace(String prefix) {
    String name = api.plane().createNamespace(prefix);
    namespaces.add(name);
    return name;
  }

  /**
   * Registers the core Node {@code name} with {@code labels} and keeps it Ready, as its kubelet
   * would ({@link KubeletNodes}); the operator reads a node's labels and taints there.
   */
  void addKubeletNode(String name, Map<String, String> labels) {
    kubeletNodes.add(name, labels);
  }

  /**
   * Creates {@code resource} as {@code kubectl create} would: the API server checks it against the
   * CRD's schema and rules first, and refuses unknown fields (kubectl's default, strict field
   * validation) rather than dropping them.
   */
  <T extends HasMetadata> T apply(T resource) {
    return client().resource(resource).fieldValidation(Validation.STRICT).create();
  }

  /**
   * Applies a manifest given as YAML text, kept as written (unknown fields included), the way
   * {@code kubectl apply -f} sends it; returns what the API server stored.
   */
  GenericKubernetesResource applyYaml(String namespace, String yaml) {
    GenericKubernetesResource resource =
        client().getKubernetesSerialization().unmarshal(yaml, GenericKubernetesResource.class);
    resource.getMetadata().setNamespace(namespace);
    return client().resource(resource).fieldValidation(Validation.STRICT).create();
  }

  /**
   * Changes the spec of {@code name} as {@code kubectl edit} does: read, change, write back guarded
   * by resourceVersion, and again from a fresh read when a controller wrote its status in between
   * (409 Conflict).
   */
  <T extends HasMetadata> T edit(
      Class<T> type, String namespace, String name, UnaryOperator<T> change) {
    for (int attempt = 1; ; attempt++) {
      try {
        return client().resources(type).inNamespace(namespace).withName(name).edit(change);
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt >= 10) {
          throw e;
        }
      }
    }
  }

  MicroVM get(String namespace, String name) {
    return client().resources(MicroVM.class).inNamespace(namespace).withName(name).get();
  }

  /** Waits until the VM exists and satisfies {@code condition}; returns that version. */
  MicroVM await(String namespace, String name, Predicate<MicroVM> condition) {
    MicroVM[] seen = new MicroVM[1];
    try {
      Awaitility.await()
          .atMost(PATIENCE)
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                MicroVM vm = get(namespace, name);
                seen[0] = vm;
                return vm != null && condition.test(vm);
              });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(
          namespace
              + "/"
              + name
              + " did not get there within "
              + PATIENCE
              + "; last seen status: "
              + (seen[0] == null ? "(no such VM)" : Serialization.asJson(seen[0].getStatus()))
              + "; events: "
              + events(namespace, name).stream()
                  .map(ev -> ev.getReason() + ": " + ev.getMessage())
                  .toList(),
          e);
    }
    return seen[0];
  }

  MicroVM awaitPhase(String namespace, String name, MicroVMPhase phase) {
    return await(namespace, name, vm -> phaseOf(vm) == phase);
  }

  void awaitGone(String namespace, String name) {
    Awaitility.await()
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> get(namespace, name) == null);
  }

  static MicroVMPhase phaseOf(MicroVM vm) {
    return vm == null || vm.getStatus() == null ? null : vm.getStatus().getPhase();
  }

  /**
   * Whether {@code vm} went from Suspended to Running after {@code since}: an agent that stops
   * suspends its VMs, and the next one restores them instead of booting them.
   */
  static boolean restoredSince(MicroVM vm, java.time.Instant since) {
    var t = vm.getStatus() == null ? null : vm.getStatus().getRunStateTransition();
    return t != null
        && t.getFrom() == dev.hearth.api.v1alpha1.RunState.Suspended
        && t.getTo() == dev.hearth.api.v1alpha1.RunState.Running
        && java.time.Instant.parse(t.getTime()).isAfter(since);
  }

  /** The Events recorded about {@code name} in {@code namespace}. */
  List<Event> events(String namespace, String name) {
    return client().v1().events().inNamespace(namespace).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .toList();
  }

  boolean hasEvent(String namespace, String name, String reason) {
    return events(namespace, name).stream().anyMatch(e -> reason.equals(e.getReason()));
  }

  private void removeWhatTheScenariosMade() {
    for (String ns : namespaces) {
      client().namespaces().withName(ns).delete();
    }
    try {
      Awaitility.await()
          .atMost(PATIENCE)
          .until(
              () ->
                  namespaces.stream()
                      .allMatch(ns -> client().namespaces().withName(ns).get() == null));
    } finally {
      for (AgentNode n : nodes) {
        client().resources(MicroVMNode.class).withName(n.name()).delete();
      }
      kubeletNodes.close();
    }
  }

  /**
   * Stops everything. The scenarios' namespaces are deleted first, while the agents still run to
   * release their VMs, and the MicroVMNodes and Nodes the fixture made are removed; then the agents
   * and the operator stop, and the release's RBAC and namespace go. Each step runs even when an
   * earlier one failed (the first failure is thrown at the end): an operator left running would
   * lose its leader Lease with the release namespace, and exit the JVM.
   */
  @Override
  public void close() {
    List<Runnable> steps = new ArrayList<>();
    steps.add(this::removeWhatTheScenariosMade);
    nodes.forEach(n -> steps.add(n::close));
    steps.add(operator::close);
    steps.add(operatorClient::close);
    steps.add(api::close);
    RuntimeException first = null;
    for (Runnable step : steps) {
      try {
        step.run();
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
