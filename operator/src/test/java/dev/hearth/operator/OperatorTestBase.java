package dev.hearth.operator;

import static org.awaitility.Awaitility.await;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.operator.scheduling.SchedulerConfig;
import dev.hearth.operator.scheduling.SchedulingStrategy;
import dev.hearth.testkit.ChartRbac;
import dev.hearth.testkit.ControlPlane;
import dev.hearth.testkit.MutableClock;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * Starts the operator against the shared real API server ({@link ControlPlane#shared()}) with a
 * hand-moved clock. Each test gets a namespace of its own, which is also the chart release's
 * namespace: the operator runs with the token of the chart's own ServiceAccount and RBAC ({@link
 * ChartRbac}), watches only that namespace and reads node Leases there. MicroVMNodes are
 * cluster-scoped, so their names carry the namespace ({@link #nodeName}) and are deleted after.
 */
abstract class OperatorTestBase {
  /** Generous: the build machines are shared and often heavily loaded. */
  protected static final Duration TIMEOUT = Duration.ofSeconds(90);

  private static boolean crdsInstalled;

  protected static ControlPlane plane;

  /** The admin: what a user and the agents do, and what the test reads. */
  protected KubernetesClient client;

  /** The namespace of this test: its MicroVMs, node Leases, and the chart's release. */
  protected String ns;

  protected final MutableClock clock = new MutableClock(Instant.now());
  protected HearthOperator operator;
  protected SimpleMeterRegistry registry;
  private ChartRbac rbac;
  private final List<KubernetesClient> operatorClients = new ArrayList<>();
  private final List<String> nodes = new ArrayList<>();

  @BeforeAll
  static void controlPlane() {
    plane = ControlPlane.shared();
    synchronized (OperatorTestBase.class) {
      if (!crdsInstalled) {
        plane.installCrds(ControlPlane.repository().resolve("crds/yaml"));
        crdsInstalled = true;
      }
    }
  }

  @BeforeEach
  void namespaceAndRbac() {
    client = plane.client();
    // Short: the namespace is also the release name, which helm limits to 53 characters.
    String prefix = getClass().getSimpleName().toLowerCase(Locale.ROOT).replace("test", "");
    ns = plane.createNamespace("op-" + prefix.substring(0, Math.min(prefix.length(), 24)));
    rbac = ChartRbac.install(plane, ns, ns);
  }

  @AfterEach
  void cleanUp() {
    stopOperator();
    operatorClients.forEach(KubernetesClient::close);
    for (String node : nodes) {
      client.resources(MicroVMNode.class).withName(node).delete();
    }
    // The agent finalizer would hold the namespace forever: no agent runs here.
    for (MicroVM vm : client.resources(MicroVM.class).inNamespace(ns).list().getItems()) {
      if (vm.getMetadata().getFinalizers() != null && !vm.getMetadata().getFinalizers().isEmpty()) {
        client
            .resource(vm)
            .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"finalizers\":null}}");
      }
    }
    client.namespaces().withName(ns).delete();
    rbac.close();
  }

  protected void stopOperator() {
    if (operator != null) {
      operator.close();
      operator = null;
    }
  }

  /** A new client with the chart's operator ServiceAccount token, closed after the test. */
  protected KubernetesClient operatorClient() {
    KubernetesClient c = plane.clientAs(ns, rbac.operatorAccount());
    operatorClients.add(c);
    return c;
  }

  /** As {@link #operatorClient()}, with {@code interceptor} on its HTTP requests. */
  protected KubernetesClient operatorClient(String name, Interceptor interceptor) {
    KubernetesClient c =
        new KubernetesClientBuilder()
            .withConfig(operatorClient().getConfiguration())
            .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor(name, interceptor))
            .build();
    operatorClients.add(c);
    return c;
  }

  protected OperatorConfig config() {
    OperatorConfig d = OperatorConfig.defaults();
    return new OperatorConfig(
            Set.of(ns),
            ns,
            d.scheduler(),
            d.nodeGracePeriod(),
            d.pendingRetry(),
            d.nodeRecheck(),
            false,
            ns,
            d.reconcileThreads(),
            0)
        .withScheduler(new SchedulerConfig(SchedulingStrategy.SPREAD, 0, 0))
        .withTimings(Duration.ofSeconds(60), Duration.ofMillis(500), Duration.ofMillis(200));
  }

  protected HearthOperator startOperator(OperatorConfig config) {
    return startOperator(operatorClient(), config);
  }

  protected HearthOperator startOperator(KubernetesClient operatorClient, OperatorConfig config) {
    registry = new SimpleMeterRegistry();
    operator = new HearthOperator(operatorClient, config, clock, registry);
    operator.start();
    return operator;
  }

  /** The cluster-wide name of this test's node {@code name}. */
  protected String nodeName(String name) {
    return ns + "-" + name;
  }

  /** Registers node {@code nodeName(name)} as its agent would, with a fresh Lease. */
  protected MicroVMNode node(String name, int vcpus, long memMiB) {
    return node(name, vcpus, memMiB, Map.of(), List.of());
  }

  protected MicroVMNode node(
      String name, int vcpus, long memMiB, Map<String, String> labels, List<Taint> taints) {
    nodes.add(nodeName(name));
    return Fixtures.node(client, clock, ns, nodeName(name), vcpus, memMiB, labels, taints);
  }

  /**
   * The status of node {@code nodeName(name)}'s Ready condition; null before the operator wrote
   * one.
   */
  protected String readyOf(String name) {
    MicroVMNode n = client.resources(MicroVMNode.class).withName(nodeName(name)).get();
    return n == null || n.getStatus() == null
        ? null
        : n.getStatus().condition(HearthApi.Conditions.READY).map(c -> c.getStatus()).orElse(null);
  }

  /**
   * Waits until the operator has found each node's Lease and marked it Ready: until then the
   * scheduler rightly counts it "not Ready", which a test of its messages must not race.
   */
  protected void awaitReady(String... names) {
    for (String name : names) {
      await().atMost(TIMEOUT).until(() -> "True".equals(readyOf(name)));
    }
  }

  /** Renews the Lease of node {@code nodeName(name)} for 40 s from the test clock's now. */
  protected void renewLease(String name) {
    Fixtures.renewLease(client, clock, ns, nodeName(name), 40);
  }

  /** A MicroVM in this test's namespace. */
  protected MicroVM vm(String name, int vcpus, int memMiB) {
    return Fixtures.vm(ns, name, vcpus, memMiB);
  }

  protected MicroVM get(String name) {
    return client.resources(MicroVM.class).inNamespace(ns).withName(name).get();
  }

  protected MicroVM awaitVm(String name, Predicate<MicroVM> condition) {
    await()
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              MicroVM vm = get(name);
              return vm != null && condition.test(vm);
            });
    return get(name);
  }

  /** Events with {@code reason} about object {@code name} in {@code namespace}. */
  protected List<Event> events(String namespace, String name, String reason) {
    return client.v1().events().inNamespace(namespace).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .filter(e -> reason.equals(e.getReason()))
        .toList();
  }
}
