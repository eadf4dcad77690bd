package dev.hearth.e2e.system;

import static dev.hearth.e2e.system.HearthSystem.phaseOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.testing.FakeVmRuntime;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.NetworkInterfaceStatus;
import dev.hearth.api.v1alpha1.RateLimiterSpec;
import dev.hearth.api.v1alpha1.RootfsSpec;
import dev.hearth.api.v1alpha1.TokenBucketSpec;
import dev.hearth.vmm.testing.RequiresRoot;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Operator and two node agents against the API server, with the agents' real networking (bridge,
 * taps, IPAM, nftables, each node in a network namespace of its own) and a VM runtime that boots
 * nothing: scheduling, addresses, console, live rate limits and clean deletion, end to end. The
 * same scenarios with the real VMM, without interfaces, are in {@link RealVmmKvmIT}.
 */
@RequiresRoot
class ControlPlaneIT {
  @TempDir static Path dir;
  private static TwoFakeNodes cluster;
  private static HearthSystem system;
  private static AgentNode nodeA;
  private static AgentNode nodeB;
  private static ImageSource kernel;

  @BeforeAll
  static void start() throws Exception {
    cluster = TwoFakeNodes.start(dir, "cp", "10.91.0.0/24", "10.92.0.0/24");
    system = cluster.system;
    nodeA = cluster.nodeA;
    nodeB = cluster.nodeB;
    kernel = cluster.kernel;
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static AgentNode nodeOf(MicroVM vm) {
    return cluster.nodeOf(vm);
  }

  @Test
  void aVmIsScheduledBootedGivenAnAddressAndItsConsoleIsServed() throws Exception {
    String ns = system.namespace("cp-apply");
    system.apply(Manifests.vm(ns, "web", kernel, Manifests::withEth0));

    MicroVM vm = system.awaitPhase(ns, "web", MicroVMPhase.Running);
    AgentNode node = nodeOf(vm);
    assertThat(vm.getMetadata().getLabels()).containsEntry(HearthApi.NODE_LABEL, node.name());
    assertThat(vm.getStatus().condition("Scheduled").orElseThrow().getStatus()).isEqualTo("True");
    assertThat(vm.getStatus().condition("Ready").orElseThrow().getStatus()).isEqualTo("True");
    NetworkInterfaceStatus nic = vm.getStatus().getNetwork().getFirst();
    Cidr subnet = Cidr.parse(node == nodeA ? "10.91.0.0/24" : "10.92.0.0/24");
    int address = ByteBuffer.wrap(InetAddress.getByName(nic.getIp()).getAddress()).getInt();
    assertThat(subnet.contains(address)).as(nic.getIp() + " in " + subnet).isTrue();
    assertThat(node.linkDetails(nic.getTap())).contains("master hearth0", "tun type tap");
    assertThat(FakeNodes.vm(node, ns, "web").launch.cmdline()).contains("ip=" + nic.getIp() + "::");

    // Each component wrote its own part of the status by server-side apply, and no spec.
    assertThat(managedStatusFields(vm, "hearth-operator"))
        .contains("\"f:nodeName\"")
        .doesNotContain("f:network", "f:startTime");
    assertThat(managedStatusFields(vm, "hearth-agent"))
        .contains("\"f:network\"", "\"f:startTime\"", "\"f:phase\"")
        .doesNotContain("f:nodeName");
    assertThat(vm.getMetadata().getManagedFields())
        .filteredOn(e -> e.getManager().startsWith("hearth-"))
        .allSatisfy(
            e ->
                assertThat(system.client().getKubernetesSerialization().asJson(e.getFieldsV1()))
                    .as(e.getManager())
                    .doesNotContain("f:spec"));
    // Normal Events on the happy path, about this very object, from each component.
    await().atMost(HearthSystem.PATIENCE).until(() -> system.hasEvent(ns, "web", "Started"));
    assertThat(system.events(ns, "web"))
        .anySatisfy(
            e -> {
              assertThat(e.getReason()).isEqualTo("Scheduled");
              assertThat(e.getType()).isEqualTo("Normal");
              assertThat(e.getMessage()).isEqualTo("bound to node " + node.name());
              assertThat(e.getSource().getComponent()).isEqualTo("hearth-operator");
              assertThat(e.getInvolvedObject().getUid()).isEqualTo(vm.getMetadata().getUid());
            })
        .anySatisfy(
            e -> {
              assertThat(e.getReason()).isEqualTo("Started");
              assertThat(e.getType()).isEqualTo("Normal");
              assertThat(e.getMessage()).isEqualTo("started the VM on node " + node.name());
              assertThat(e.getSource().getComponent()).isEqualTo("hearth-agent");
              assertThat(e.getInvolvedObject().getKind()).isEqualTo("MicroVM");
              assertThat(e.getInvolvedObject().getUid()).isEqualTo(vm.getMetadata().getUid());
            });

    var console = node.console(ns, "web");
    assertThat(console.statusCode()).isEqualTo(200);
    assertThat(console.body()).contains("booting " + ns + "/web");
  }

  @Test
  void aRateLimitChangeAppliesToTheRunningVmWithoutARestart() {
    String ns = system.namespace("cp-limits");
    system.apply(
        Manifests.vm(
            ns,
            "throttled",
            kernel,
            s -> {
              Manifests.withEth0(s);
              s.getNetwork().getFirst().setTxRateLimiter(limiter(1 << 20));
              return s;
            }));
    MicroVM running = system.awaitPhase(ns, "throttled", MicroVMPhase.Running);
    AgentNode node = nodeOf(running);
    FakeVmRuntime.FakeVm guest = FakeNodes.vm(node, ns, "throttled");

    MicroVM edited =
        system.edit(
            MicroVM.class,
            ns,
            "throttled",
            vm -> {
              vm.getSpec().getNetwork().getFirst().setTxRateLimiter(limiter(4 << 20));
              return vm;
            });
    long generation = edited.getMetadata().getGeneration();

    MicroVM after =
        system.await(
            ns,
            "throttled",
            vm ->
                vm.getStatus().getObservedGeneration() != null
                    && vm.getStatus().getObservedGeneration() == generation);
    await()
        .atMost(HearthSystem.PATIENCE)
        .until(() -> system.hasEvent(ns, "throttled", "LimitsUpdated"));
    assertThat(guest.limitUpdates).isNotEmpty();
    VmLaunch.RateLimit tx = guest.limitUpdates.getLast().tx().get("eth0");
    assertThat(tx.bandwidth().orElseThrow().size()).isEqualTo(4 << 20);
    assertThat(FakeNodes.launches(node, ns, "throttled")).isEqualTo(1);
    assertThat(guest.exit).isNotDone();
    assertThat(phaseOf(after)).isEqualTo(MicroVMPhase.Running);
    assertThat(after.getStatus().getRestartCount())
        .isEqualTo(running.getStatus().getRestartCount());
    assertThat(after.getStatus().getStartTime()).isEqualTo(running.getStatus().getStartTime());
    assertThat(after.getStatus().condition("Restarting")).isEmpty();
  }

  @Test
  void deletingAVmLeavesNothingOnItsNode() throws Exception {
    String ns = system.namespace("cp-delete");
    Path rootfs = Files.writeString(dir.resolve("rootfs.ext4"), "a stand-in disk");
    system.apply(
        Manifests.vm(
            ns,
            "gone",
            kernel,
            s -> {
              Manifests.withEth0(s);
              RootfsSpec root = new RootfsSpec(ImageSource.ofPath(Manifests.underRoot(rootfs)));
              root.setReadOnly(false); // the agent makes the VM its own copy
              s.setRootfs(root);
              return s;
            }));
    MicroVM vm = system.awaitPhase(ns, "gone", MicroVMPhase.Running);
    AgentNode node = nodeOf(vm);
    String uid = vm.getMetadata().getUid();
    String tap = vm.getStatus().getNetwork().getFirst().getTap();
    assertThat(node.taps()).contains(tap);
    assertThat(node.addresses()).containsKey(uid + "/eth0");
    assertThat(node.vmDirectories()).contains(uid);
    assertThat(node.daemon().context().images().owners(kernel.getSha256())).contains(uid);
    FakeVmRuntime.FakeVm guest = FakeNodes.vm(node, ns, "gone");

    system.client().resource(vm).delete();
    system.awaitGone(ns, "gone");

    assertThat(guest.exit).isDone();
    assertThat(node.taps()).doesNotContain(tap);
    assertThat(node.addresses()).doesNotContainKey(uid + "/eth0");
    assertThat(node.vmDirectories()).doesNotContain(uid);
    assertThat(node.daemon().context().images().owners(kernel.getSha256())).doesNotContain(uid);
    assertThat(node.daemon().agent().runningVms()).doesNotContain(ns + "/gone");
    assertThat(node.console(ns, "gone").statusCode()).isEqualTo(404);
  }

  private static RateLimiterSpec limiter(long bytes) {
    return new RateLimiterSpec(new TokenBucketSpec(bytes, 1000), null);
  }

  /** The status fields {@code manager} owns by server-side apply, as managedFields JSON. */
  private static String managedStatusFields(MicroVM vm, String manager) {
    List<ManagedFieldsEntry> entries =
        vm.getMetadata().getManagedFields().stream()
            .filter(e -> manager.equals(e.getManager()) && "Apply".equals(e.getOperation()))
            .filter(e -> "status".equals(e.getSubresource()))
            .toList();
    assertThat(entries).as("%s's apply on status", manager).hasSize(1);
    return system.client().getKubernetesSerialization().asJson(entries.getFirst().getFieldsV1());
  }
}
