package dev.hearth.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hearth.agent.console.ConsoleRegistry;
import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.ipam.Ipam;
import dev.hearth.agent.metrics.AgentMetrics;
import dev.hearth.agent.node.FdBudget;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.runtime.VmStartException;
import dev.hearth.agent.spec.SpecMapper;
import dev.hearth.agent.spec.SpecRejectedException;
import dev.hearth.agent.testing.FakeGuestNetwork;
import dev.hearth.agent.testing.FakeVmRuntime;
import dev.hearth.agent.testing.SharedApiServer;
import dev.hearth.agent.testing.TestAgentContext;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.NetworkInterfaceSpec;
import dev.hearth.api.v1alpha1.RateLimiterSpec;
import dev.hearth.api.v1alpha1.ReadinessProbe;
import dev.hearth.api.v1alpha1.RestartPolicy;
import dev.hearth.api.v1alpha1.RootfsSpec;
import dev.hearth.api.v1alpha1.TcpSocketProbe;
import dev.hearth.api.v1alpha1.TokenBucketSpec;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's reconcile loop against the real API server, with the chart's agent token and a fake
 * VM runtime.
 */
class NodeAgentTest {
  private static KubernetesClient client;

  @BeforeAll
  static void apiServer() {
    client = SharedApiServer.client();
  }

  @TempDir Path state;
  private String ns;
  private String node; // each test's agent sees only its own VMs
  private KubernetesClient agentClient;
  private final FakeVmRuntime runtime = new FakeVmRuntime();
  private final ConsoleRegistry consoles = new ConsoleRegistry(4096);
  private final AgentMetrics metrics = new AgentMetrics();
  private final FdBudget fds = new FdBudget(1 << 20);
  private FakeGuestNetwork network;
  private Path kernel;
  private Path rootfs;
  private NodeAgent agent;

  /** Guest ports that accept a readiness probe's connection, as "ip:port". */
  private final Set<String> listening = java.util.concurrent.ConcurrentHashMap.newKeySet();

  @BeforeEach
  void start() throws Exception {
    ns = SharedApiServer.createNamespace("agent");
    node = "node-" + ns;
    agentClient = SharedApiServer.agentClient();
    kernel = Files.writeString(state.resolve("vmlinux"), "kernel");
    rootfs = Files.writeString(state.resolve("rootfs.ext4"), "pristine");
    network = new FakeGuestNetwork(new Ipam(Cidr.parse("10.88.0.0/24"), state.resolve("ipam")));
    agent = newAgent();
    agent.start(Duration.ofSeconds(20));
  }

  private NodeAgent newAgent() {
    return newAgent(dev.hearth.agent.spec.LaunchImages.DEFAULT_WRITABLE_BYTES);
  }

  private NodeAgent newAgent(long vmWritableBytes) {
    AgentContext ctx =
        TestAgentContext.of(node, agentClient, state)
            .runtime(runtime)
            .network(network)
            .consoles(consoles)
            .metrics(metrics)
            .vmWritableBytes(vmWritableBytes)
            .fds(fds)
            .build();
    return new NodeAgent(
        ctx,
        (address, timeout) -> {
          if (!listening.contains(
              address.getAddress().getHostAddress() + ":" + address.getPort())) {
            throw new java.net.ConnectException("Connection refused");
          }
        });
  }

  @AfterEach
  void stop() {
    agent.close();
    agentClient.close();
    SharedApiServer.deleteNamespace(ns);
  }

  private MicroVM create(String name, UnaryOperator<MicroVMSpec> customize) {
    MicroVMSpec spec = new MicroVMSpec();
    spec.setKernel(new KernelSpec(ImageSource.ofPath(state.relativize(kernel).toString())));
    spec.setRootfs(new RootfsSpec(ImageSource.ofPath(state.relativize(rootfs).toString())));
    spec.setNetwork(List.of(new NetworkInterfaceSpec("eth0")));
    MicroVM vm = new MicroVM();
    vm.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(ns)
            .withName(name)
            .withLabels(Map.of(HearthApi.NODE_LABEL, node))
            .withFinalizers(HearthApi.AGENT_FINALIZER)
            .build());
    vm.setSpec(customize.apply(spec));
    return client.resource(vm).create();
  }

  private MicroVM get(String name) {
    return client.resources(MicroVM.class).inNamespace(ns).withName(name).get();
  }

  private void awaitPhase(String name, MicroVMPhase phase) {
    await()
        .atMost(20, TimeUnit.SECONDS)
        .until(() -> get(name).getStatus() != null && get(name).getStatus().getPhase() == phase);
  }

  /** The Ready condition as first seen with {@code reason} (retries may replace it soon after). */
  private Condition awaitReadyReason(String name, String reason) {
    Condition[] seen = new Condition[1];
    await()
        .atMost(20, TimeUnit.SECONDS)
        .until(
            () -> {
              MicroVM vm = get(name);
              seen[0] =
                  vm.getStatus() == null ? null : vm.getStatus().condition("Ready").orElse(null);
              return seen[0] != null && reason.equals(seen[0].getReason());
            });
    return seen[0];
  }

  private Condition condition(String name, String type) {
    return get(name).getStatus().condition(type).orElseThrow();
  }

  private void edit(String name, UnaryOperator<MicroVMSpec> change) {
    client
        .resources(MicroVM.class)
        .inNamespace(ns)
        .withName(name)
        .edit(
            vm -> {
              vm.setSpec(change.apply(vm.getSpec()));
              return vm;
            });
  }

  @Test
  void bootsAMicroVmAndReportsItRunning() throws Exception {
    MicroVM created = create("web", s -> s);
    awaitPhase("web", MicroVMPhase.Running);
    MicroVM vm = get("web");
    var nic = vm.getStatus().getNetwork().getFirst();
    assertThat(nic.getName()).isEqualTo("eth0");
    assertThat(nic.getIp()).isEqualTo("10.88.0.2");
    assertThat(nic.getTap()).startsWith("hth");
    assertThat(nic.getMac()).startsWith("02:");
    assertThat(vm.getStatus().getStartTime()).isNotNull();
    assertThat(vm.getStatus().getObservedGeneration())
        .isEqualTo(created.getMetadata().getGeneration());
    assertThat(condition("web", "Ready").getStatus()).isEqualTo("True");
    assertThat(vm.getSpec()).isEqualTo(created.getSpec()); // status patches never touch spec

    VmLaunch launch = runtime.last().launch;
    assertThat(launch.cmdline())
        .isEqualTo(
            "console=ttyS0 reboot=k panic=1 root=/dev/vda rw ip=10.88.0.2::10.88.0.1:255.255.255.0:web:eth0:off");
    assertThat(launch.kernel()).isEqualTo(kernel);
    Path disk = launch.disks().getFirst().path();
    assertThat(disk).startsWith(state.resolve("vms")).hasContent("pristine").isNotEqualTo(rootfs);
    assertThat(launch.nics().getFirst().tap()).isEqualTo(nic.getTap());
    assertThat(
            new String(
                consoles.find(ns, "web").orElseThrow().tail().data(), StandardCharsets.UTF_8))
        .isEqualTo("booting " + ns + "/web\n");

    runtime.last().booted.complete(Duration.ofMillis(123));
    await()
        .atMost(10, TimeUnit.SECONDS)
        .until(() -> Long.valueOf(123).equals(get("web").getStatus().getBootTimeMillis()));
    assertThat(metrics.scrape())
        .contains("hearth_vms{phase=\"Running\"} 1.0", "hearth_vm_boot_seconds_count 1");

    // Normal Events about this very VM, from the agent of this node.
    await().atMost(10, TimeUnit.SECONDS).until(() -> events("web", "Booted").size() == 1);
    Event started = events("web", "Started").getFirst();
    assertThat(started.getType()).isEqualTo("Normal");
    assertThat(started.getMessage()).isEqualTo("started the VM on node " + node);
    assertThat(started.getInvolvedObject().getUid()).isEqualTo(created.getMetadata().getUid());
    assertThat(started.getSource().getComponent()).isEqualTo("hearth-agent");
    assertThat(started.getSource().getHost()).isEqualTo(node);
    assertThat(events("web", "Booted").getFirst().getMessage())
        .isEqualTo("the guest booted in 123 ms");

    // Server-side apply recorded the agent as the owner of its status fields, and of no spec.
    List<ManagedFieldsEntry> agentEntries =
        get("web").getMetadata().getManagedFields().stream()
            .filter(e -> "hearth-agent".equals(e.getManager()))
            .toList();
    assertThat(agentEntries)
        .anySatisfy(
            e -> {
              assertThat(e.getOperation()).isEqualTo("Apply");
              assertThat(e.getSubresource()).isEqualTo("status");
              assertThat(client.getKubernetesSerialization().asJson(e.getFieldsV1()))
                  .contains("\"f:phase\"", "\"f:network\"", "\"f:bootTimeMillis\"")
                  .doesNotContain("f:nodeName");
            });
    assertThat(agentEntries)
        .allSatisfy(
            e ->
                assertThat(client.getKubernetesSerialization().asJson(e.getFieldsV1()))
                    .doesNotContain("f:spec"));
  }

  private List<Event> events(String vm, String reason) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> vm.equals(e.getInvolvedObject().getName()))
        .filter(e -> reason.equals(e.getReason()))
        .toList();
  }

  @Test
  void aReadinessProbeDecidesWhetherTheRunningVmIsReady() throws Exception {
    create(
        "web",
        s -> {
          ReadinessProbe probe = new ReadinessProbe(new TcpSocketProbe(8080));
          probe.setPeriodSeconds(1);
          probe.setFailureThreshold(2);
          s.setReadinessProbe(probe);
          return s;
        });
    awaitPhase("web", MicroVMPhase.Running);
    Condition pending = awaitReadyReason("web", "ProbePending");
    assertThat(pending.getStatus()).isEqualTo("False");
    assertThat(pending.getMessage()).contains("TCP port 8080");

    listening.add("10.88.0.2:8080");
    assertThat(awaitReadyReason("web", "ProbeSucceeded").getStatus()).isEqualTo("True");

    listening.clear();
    Condition failed = awaitReadyReason("web", "ProbeFailed");
    assertThat(failed.getStatus()).isEqualTo("False");
    assertThat(failed.getMessage()).contains("failed 2 checks in a row", "Connection refused");
    await().atMost(10, TimeUnit.SECONDS).until(() -> !events("web", "Unhealthy").isEmpty());

    // Without a probe the running VM is Ready; changing the probe restarts nothing.
    edit(
        "web",
        s -> {
          s.setReadinessProbe(null);
          return s;
        });
    assertThat(awaitReadyReason("web", "Running").getStatus()).isEqualTo("True");
    assertThat(runtime.started).hasSize(1);
  }

  @Test
  void rateLimitChangesApplyLiveWithoutARestart() throws Exception {
    create("db", s -> s);
    awaitPhase("db", MicroVMPhase.Running);
    var first = runtime.last();
    edit(
        "db",
        s -> {
          RateLimiterSpec r = new RateLimiterSpec(new TokenBucketSpec(1_000_000, 100), null);
          s.getRootfs().setRateLimiter(r);
          return s;
        });
    await().atMost(10, TimeUnit.SECONDS).until(() -> !first.limitUpdates.isEmpty());
    assertThat(first.limitUpdates.getLast().disks().get("rootfs").bandwidth())
        .contains(new VmLaunch.Bucket(1_000_000, 100, 0));
    assertThat(runtime.started).hasSize(1);
    assertThat(first.exit).isNotDone();
    await()
        .atMost(10, TimeUnit.SECONDS)
        .until(
            () ->
                get("db")
                    .getStatus()
                    .getObservedGeneration()
                    .equals(get("db").getMetadata().getGeneration()));
  }

  @Test
  void otherSpecChangesRestartTheVmAndSaySo() throws Exception {
    create("app", s -> s);
    awaitPhase("app", MicroVMPhase.Running);
    var first = runtime.last();
    edit(
        "app",
        s -> {
          s.setMemoryMiB(256);
          return s;
        });
    await().atMost(10, TimeUnit.SECONDS).until(() -> runtime.started.size() == 2);
    assertThat(first.stopReason).isEqualTo("spec changed");
    assertThat(runtime.last().launch.memoryMiB()).isEqualTo(256);
    awaitPhase("app", MicroVMPhase.Running);
    await()
        .atMost(10, TimeUnit.SECONDS)
        .until(() -> get("app").getStatus().condition("Restarting").isPresent());
    assertThat(condition("app", "Restarting").getReason()).isIn("SpecChanged", "Started");
    assertThat(get("app").getStatus().getNetwork().getFirst().getIp())
        .isEqualTo("10.88.0.2"); // kept
  }

  @Test
  void deletionStopsTheVmFreesEverythingAndRemovesTheFinalizer() throws Exception {
    create("tmp", s -> s);
    awaitPhase("tmp", MicroVMPhase.Running);
    String uid = get("tmp").getMetadata().getUid();
    assertThat(network.taps).hasSize(1);
    // Its peers are its namespace's VMs, and the spec's default opens nothing more.
    assertThat(network.policies.get(uid))
        .isEqualTo(new dev.hearth.agent.net.GuestPolicy(ns, true, List.of()));
    client.resources(MicroVM.class).inNamespace(ns).withName("tmp").delete();
    await().atMost(20, TimeUnit.SECONDS).until(() -> get("tmp") == null);
    assertThat(runtime.last().stopReason).isEqualTo("deleted");
    assertThat(events("tmp", "Stopped"))
        .singleElement()
        .satisfies(e -> assertThat(e.getMessage()).isEqualTo("stopped the VM: deleted"));
    assertThat(network.taps).isEmpty();
    assertThat(network.ipam.allocations()).isEmpty();
    assertThat(state.resolve("vms").resolve(uid)).doesNotExist();
    assertThat(consoles.find(ns, "tmp")).isEmpty();
    assertThat(metrics.scrape()).contains("hearth_vms{phase=\"Running\"} 0.0");
  }

  @Test
  void aMissingImageBecomesAConditionAndIsRetried() throws Exception {
    Path missing = state.resolve("later.ext4");
    create(
        "bad",
        s -> {
          s.setRootfs(new RootfsSpec(ImageSource.ofPath(state.relativize(missing).toString())));
          return s;
        });
    Condition ready = awaitReadyReason("bad", "ImageNotFound");
    assertThat(ready.getMessage()).contains("later.ext4 does not exist");
    assertThat(get("bad").getStatus().getPhase()).isEqualTo(MicroVMPhase.Starting);
    assertThat(network.taps).isEmpty(); // nothing wired for a VM that cannot boot
    Files.writeString(missing, "now here");
    awaitPhase("bad", MicroVMPhase.Running);
    assertThat(client.v1().events().inNamespace(ns).list().getItems())
        .anySatisfy(e -> assertThat(e.getReason()).isEqualTo("ImageNotFound"));
  }

  @Test
  void aVmWhoseWritableDisksExceedTheNodesBoundIsRefusedWithACondition() throws Exception {
    agent.close();
    agent = newAgent(4); // --vm-writable-disk-mib, in bytes: less than the 8-byte rootfs
    agent.start(Duration.ofSeconds(20));
    create("big", s -> s);
    Condition ready = awaitReadyReason("big", "ImageFetchFailed");
    assertThat(ready.getMessage())
        .contains("writable disks take 8 bytes together, more than the node allows a VM (4 bytes)");
    assertThat(runtime.started).isEmpty();
    assertThat(state.resolve("vms"))
        .satisfiesAnyOf(
            p -> assertThat(p).doesNotExist(),
            p -> assertThat(Files.walk(p).filter(Files::isRegularFile)).isEmpty());
  }

  @Test
  void aBadImageWithRestartPolicyNeverFailsTheVm() throws Exception {
    create(
        "once",
        s -> {
          s.setRestartPolicy(RestartPolicy.Never);
          s.setKernel(new KernelSpec(ImageSource.ofPath("nonexistent/vmlinux")));
          return s;
        });
    awaitPhase("once", MicroVMPhase.Failed);
    assertThat(get("once").getStatus().getExit().getReason()).isEqualTo("ImageNotFound");
    assertThat(network.ipam.allocations()).isEmpty();
  }

  @Test
  void anInvalidSpecIsRefusedByTheServerAndWouldBeByTheAgent() throws Exception {
    // The CRD's rules refuse it at admission, naming the field...
    assertThatThrownBy(
            () ->
                create(
                    "inv",
                    s -> {
                      s.setKernel(
                          new KernelSpec(ImageSource.ofUrl("http://127.0.0.1:1/vmlinux", null)));
                      return s;
                    }))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("spec.kernel.source")
        .hasMessageContaining("a url source requires sha256");
    // ...and the agent, which must not trust a cluster whose CRD is older, refuses it too (its
    // InvalidSpec condition comes from this exception).
    MicroVMSpec spec = new MicroVMSpec();
    spec.setKernel(new KernelSpec(ImageSource.ofUrl("http://127.0.0.1:1/vmlinux", null)));
    assertThatThrownBy(() -> new SpecMapper(runtime.capabilities()).map(spec))
        .isInstanceOf(SpecRejectedException.class)
        .hasMessageContaining("spec.kernel.source: a url source requires sha256");
    assertThat(runtime.started).isEmpty();
  }

  @Test
  void guestExitsFollowTheRestartPolicyWithBackoff() throws Exception {
    create(
        "crashy",
        s -> {
          s.setRestartPolicy(RestartPolicy.OnFailure);
          return s;
        });
    awaitPhase("crashy", MicroVMPhase.Running);
    runtime.last().guestExits("InternalError", false);
    await().atMost(10, TimeUnit.SECONDS).until(() -> runtime.started.size() == 2);
    awaitPhase("crashy", MicroVMPhase.Running);
    await()
        .atMost(10, TimeUnit.SECONDS)
        .until(() -> Integer.valueOf(1).equals(get("crashy").getStatus().getRestartCount()));
    assertThat(get("crashy").getStatus().getExit().getReason()).isEqualTo("InternalError");

    runtime.last().guestExits("Shutdown", true);
    awaitPhase("crashy", MicroVMPhase.Succeeded);
    assertThat(runtime.started).hasSize(2);
    assertThat(network.taps).isEmpty(); // a finished VM holds no address
    assertThat(condition("crashy", "Ready").getReason()).isEqualTo("Shutdown");
  }

  @Test
  void aRuntimeStartFailureIsACondition() throws Exception {
    runtime.failNextStart =
        new VmStartException("KvmUnavailable", "cannot open /dev/kvm: EACCES", null);
    create("nokvm", s -> s);
    awaitPhase("nokvm", MicroVMPhase.Running); // retried after back-off
    // The failure stays visible as an Event after the retry succeeded (the condition moved on).
    assertThat(client.v1().events().inNamespace(ns).list().getItems())
        .anySatisfy(
            e -> {
              assertThat(e.getReason()).isEqualTo("KvmUnavailable");
              assertThat(e.getType()).isEqualTo("Warning");
              assertThat(e.getMessage()).contains("EACCES");
            });
  }

  @Test
  void aRestartedAgentRecoversItsVmsAndRemovesOrphans() throws Exception {
    create("keep", s -> s);
    awaitPhase("keep", MicroVMPhase.Running);
    String ip = get("keep").getStatus().getNetwork().getFirst().getIp();
    network.attach(
        "ghost-uid",
        List.of(new dev.hearth.agent.net.NodeNetwork.InterfaceRequest("eth0", Optional.empty())));
    Files.createDirectories(state.resolve("vms/ghost-uid/disks"));

    agent.shutdown("the node agent received SIGTERM", Duration.ofSeconds(10));
    agent.close();
    assertThat(runtime.running()).isZero();
    assertThat(get("keep").getStatus().getPhase()).isEqualTo(MicroVMPhase.Scheduled);
    assertThat(condition("keep", "Ready").getReason()).isEqualTo("AgentShutdown");

    agent = newAgent();
    agent.start(Duration.ofSeconds(20));
    awaitPhase("keep", MicroVMPhase.Running);
    assertThat(get("keep").getStatus().getNetwork().getFirst().getIp()).isEqualTo(ip);
    assertThat(network.ipam.allocations())
        .containsOnlyKeys(get("keep").getMetadata().getUid() + "/eth0");
    assertThat(state.resolve("vms/ghost-uid")).doesNotExist();
    assertThat(runtime.running()).isEqualTo(1);
    // The shutdown suspended the guest and the new agent restored it: no second boot.
    assertThat(runtime.last().restoredFrom)
        .isEqualTo(get("keep").getMetadata().getNamespace() + "/keep");
    assertThat(get("keep").getStatus().getRunStateTransition().getReason())
        .isEqualTo("AgentStarted");
  }

  @Test
  void vmsOfOtherNodesAreIgnored() throws Exception {
    MicroVM other = new MicroVM();
    other.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(ns)
            .withName("elsewhere")
            .withLabels(Map.of(HearthApi.NODE_LABEL, "node-b"))
            .build());
    MicroVMSpec spec = new MicroVMSpec();
    spec.setKernel(new KernelSpec(ImageSource.ofPath(state.relativize(kernel).toString())));
    other.setSpec(spec);
    client.resource(other).create();
    create("mine", s -> s);
    awaitPhase("mine", MicroVMPhase.Running);
    assertThat(get("elsewhere").getStatus()).isNull();
    assertThat(runtime.started).hasSize(1);
  }
}
