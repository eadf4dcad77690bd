package dev.hearth.e2e.system;

import static dev.hearth.e2e.system.HearthSystem.phaseOf;
import static dev.hearth.vmm.testing.KvmResources.kvmFds;
import static dev.hearth.vmm.testing.KvmResources.vcpuThreads;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.agent.testing.Loopback;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSet;
import dev.hearth.api.v1alpha1.RateLimiterSpec;
import dev.hearth.api.v1alpha1.TokenBucketSpec;
import dev.hearth.e2e.ProjectRoot;
import dev.hearth.vmm.harness.TestGuest;
import dev.hearth.vmm.kvm.Kvm;
import dev.hearth.vmm.testing.RequiresKvm;
import dev.hearth.vmm.testing.RequiresLinuxKvm;
import dev.hearth.vmm.testing.RequiresRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole system with the real embedded VMM on /dev/kvm: operator and a node agent against the
 * API server, booting the vmm module's tiny test guests from MicroVMs (kernels fetched over HTTP,
 * checked and cached by the agent), and the Linux test guest of {@code vmm/guest}. The node has the
 * agent's real network (bridge {@code hearth0}, taps, IPAM, nftables) in a namespace of its own,
 * and its VMs start there, so their interfaces are taps on that bridge; {@link GuestNetworkKvmIT}
 * reaches Linux guests there by their addresses.
 */
@RequiresKvm
@RequiresRoot
class RealVmmKvmIT {
  private static final Cidr SUBNET = Cidr.parse("10.97.0.0/24");
  private static final String NODE = "kvm-node";

  @TempDir static Path dir;
  private static HearthSystem system;
  private static ImageServer images;
  private static AgentNode node;
  private static ImageSource idle;

  @BeforeAll
  static void start() throws Exception {
    Loopback.up();
    FakeNodes.requireNetworkTools();
    system = HearthSystem.start();
    images = new ImageServer();
    // The set example selects nodes labelled for web VMs.
    system.addKubeletNode(NODE, Map.of("hearth.dev/pool", "web"));
    node =
        system.addNode(
            new AgentNode.Spec(
                NODE,
                dir.resolve("node"),
                SUBNET,
                () -> new VmmRuntime(dir.resolve("vsock")),
                16,
                4096,
                RealVmmKvmIT::kvmProblem));
    idle = images.publish(Manifests.guest("idle"));
  }

  private static Optional<String> kvmProblem() {
    try (Kvm _ = Kvm.open()) {
      return Optional.empty();
    } catch (RuntimeException e) {
      return Optional.of(String.valueOf(e.getMessage()));
    }
  }

  @AfterAll
  static void stop() {
    if (system != null) {
      system.close();
    }
    if (images != null) {
      images.close();
    }
  }

  @Test
  void aGuestBootsIsServedOnTheConsoleAndDeletionLeavesNothing() throws Exception {
    String ns = system.namespace("kvm-apply");
    long fdsBefore = kvmFds();
    long threadsBefore = vcpuThreads();
    system.apply(Manifests.vm(ns, "idle", idle, s -> s));

    MicroVM vm = system.awaitPhase(ns, "idle", MicroVMPhase.Running);
    assertThat(vm.getStatus().getNodeName()).isEqualTo(NODE);
    assertThat(vm.getStatus().condition("Ready").orElseThrow().getStatus()).isEqualTo("True");
    await()
        .atMost(HearthSystem.PATIENCE)
        .until(() -> node.console(ns, "idle").body().contains("idle\n"));
    assertThat(vcpuThreads()).isEqualTo(threadsBefore + 1);
    assertThat(kvmFds()).isGreaterThan(fdsBefore);
    String uid = vm.getMetadata().getUid();
    assertThat(node.daemon().context().images().owners(idle.getSha256())).contains(uid);

    system.client().resource(vm).delete();
    system.awaitGone(ns, "idle");
    await().atMost(HearthSystem.PATIENCE).until(() -> vcpuThreads() == threadsBefore);
    await().atMost(HearthSystem.PATIENCE).until(() -> kvmFds() == fdsBefore);
    assertThat(node.daemon().context().images().owners(idle.getSha256())).doesNotContain(uid);
    assertThat(node.addresses().keySet()).noneMatch(o -> o.startsWith(uid));
    assertThat(node.vmDirectories()).doesNotContain(uid);
    assertThat(node.daemon().agent().runningVms()).doesNotContain(ns + "/idle");
    assertThat(node.console(ns, "idle").statusCode()).isEqualTo(404);
  }

  /**
   * A rate-limiter change reaches a running real-VMM VM live: a tiny idle guest with an interface
   * behind a tx limiter gets a new limit; the agent applies it to the VMM's limiters (Event
   * LimitsUpdated) without a restart: same vCPU thread, same start time and restart count, still
   * Running.
   */
  @Test
  void aRateLimitChangeAppliesLiveToARunningVm() throws Exception {
    String ns = system.namespace("kvm-limits");
    system.apply(
        Manifests.vm(
            ns,
            "throttled",
            idle,
            s -> {
              Manifests.withEth0(s);
              s.getNetwork().getFirst().setTxRateLimiter(limiter(1 << 20));
              return s;
            }));
    MicroVM running = system.awaitPhase(ns, "throttled", MicroVMPhase.Running);
    await()
        .atMost(HearthSystem.PATIENCE)
        .until(() -> node.console(ns, "throttled").body().contains("idle\n"));
    long threads = vcpuThreads();
    long fds = kvmFds();

    MicroVM edited =
        system.edit(
            MicroVM.class,
            ns,
            "throttled",
            vm -> {
              vm.getSpec().getNetwork().getFirst().setTxRateLimiter(limiter(4 << 20));
              vm.getSpec().getNetwork().getFirst().setRxRateLimiter(limiter(2 << 20));
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
    assertThat(system.hasEvent(ns, "throttled", "SpecChanged")).isFalse();
    assertThat(phaseOf(after)).isEqualTo(MicroVMPhase.Running);
    assertThat(after.getStatus().getRestartCount())
        .isEqualTo(running.getStatus().getRestartCount());
    assertThat(after.getStatus().getStartTime()).isEqualTo(running.getStatus().getStartTime());
    assertThat(after.getStatus().condition("Restarting")).isEmpty();
    assertThat(vcpuThreads()).isEqualTo(threads);
    assertThat(kvmFds()).isEqualTo(fds);
    assertThat(node.daemon().agent().runningVms()).contains(ns + "/throttled");

    system.client().resource(after).delete();
    system.awaitGone(ns, "throttled");
  }

  @Test
  void aSetOfRealVmsScalesFromZeroToFiveToTwo() {
    String ns = system.namespace("kvm-set");
    String set =
        """
        apiVersion: hearth.dev/v1alpha1
        kind: MicroVMSet
        metadata:
          name: idlers
        spec:
          replicas: 0
          selector:
            matchLabels: {app: idlers}
          template:
            metadata:
              labels: {app: idlers}
            spec:
              memoryMiB: 16
              kernel:
                source: {url: "%s", sha256: "%s"}
        """
            .formatted(idle.getUrl(), idle.getSha256());
    system.applyYaml(ns, set);
    long threadsBefore = vcpuThreads();
    scale(ns, 5);
    await().atMost(HearthSystem.PATIENCE).until(() -> running(ns) == 5);
    assertThat(vcpuThreads()).isEqualTo(threadsBefore + 5);
    scale(ns, 2);
    await().atMost(HearthSystem.PATIENCE).until(() -> members(ns).size() == 2 && running(ns) == 2);
    await().atMost(HearthSystem.PATIENCE).until(() -> vcpuThreads() == threadsBefore + 2);
    scale(ns, 0);
    await().atMost(HearthSystem.PATIENCE).until(() -> members(ns).isEmpty());
    await().atMost(HearthSystem.PATIENCE).until(() -> vcpuThreads() == threadsBefore);
  }

  @Test
  void aKilledAgentsVmsBootAgainUnderItsNextInstance() throws Exception {
    String ns = system.namespace("kvm-kill");
    for (String name : List.of("keep", "drop")) {
      system.apply(
          Manifests.vm(
              ns,
              name,
              idle,
              s -> {
                s.setNodeName(NODE);
                return s;
              }));
    }
    MicroVM keep = system.awaitPhase(ns, "keep", MicroVMPhase.Running);
    MicroVM drop = system.awaitPhase(ns, "drop", MicroVMPhase.Running);
    long threadsBefore = vcpuThreads();

    java.time.Instant killed = java.time.Instant.now();
    node.kill();
    await().atMost(HearthSystem.PATIENCE).until(() -> vcpuThreads() == threadsBefore - 2);
    system.client().resource(drop).delete();
    assertThat(phaseOf(system.get(ns, "keep"))).isEqualTo(MicroVMPhase.Running);

    node.restart();
    system.awaitGone(ns, "drop");
    MicroVM back =
        system.await(
            ns,
            "keep",
            vm ->
                phaseOf(vm) == MicroVMPhase.Running
                    // the stopping agent suspended it, and this one restores it; or it boots
                    && (HearthSystem.restoredSince(vm, killed)
                        || !vm.getStatus().getStartTime().equals(keep.getStatus().getStartTime())));
    assertThat(back.getStatus().condition("Ready").orElseThrow().getStatus()).isEqualTo("True");
    await().atMost(HearthSystem.PATIENCE).until(() -> vcpuThreads() == threadsBefore - 1);
    if (!HearthSystem.restoredSince(back, killed)) {
      // A fresh boot prints again; a restored guest goes on where it was, its output already shown.
      await()
          .atMost(HearthSystem.PATIENCE)
          .until(() -> node.console(ns, "keep").body().contains("idle\n"));
    }
    assertThat(node.daemon().agent().runningVms()).containsExactly(ns + "/keep");
    system.client().resource(back).delete();
    system.awaitGone(ns, "keep");
  }

  /**
   * examples/hello.yaml on the real VMM. The examples that boot Linux from disks get real images in
   * tests of their own (the rate-limited one below; linux.yaml); all of them, the set included,
   * also run on the host scenarios' fake runtime (ExamplesAndErrorsIT).
   */
  @Test
  void theHelloExamplePrintsItsCommandLineAndEndsWithItsReset() throws Exception {
    String ns = system.namespace("kvm-examples");
    Manifests.Example example =
        Manifests.examples(examples(), ns, nodeImages(), null).stream()
            .filter(e -> e.file().getFileName().toString().equals("hello.yaml"))
            .findFirst()
            .orElseThrow();
    system.apply(example.object());
    // The tiny hello guest prints its command line and resets; restartPolicy Never.
    MicroVM hello = system.awaitPhase(ns, "hello", MicroVMPhase.Succeeded);
    assertThat(hello.getStatus().getExit().getReason()).isEqualTo("Reset");
    assertThat(node.console(ns, "hello").body())
        .contains("Hello from a Hearth guest! cmdline: console=ttyS0");
  }

  /**
   * examples/rate-limited-vm.yaml with its node images made real: the Linux test guest's vmlinux
   * and its ext4 rootfs. Through operator, agent and VMM it boots Linux from its root on virtio-blk
   * (read-only, behind the example's disk limiter) with an interface on a tap behind its rx and tx
   * limiters; the init reports, then resets, and restartPolicy OnFailure ends it.
   */
  @Test
  @RequiresLinuxKvm
  void theRateLimitedExampleBootsLinuxFromItsDiskThroughTheWholeSystem() throws Exception {
    String ns = system.namespace("kvm-disk");
    TestGuest linux = TestGuest.locate();
    Path images = Files.createDirectories(dir.resolve("linux-node-images"));
    Files.deleteIfExists(images.resolve("vmlinux"));
    Files.deleteIfExists(images.resolve("rootfs.ext4"));
    Files.createSymbolicLink(images.resolve("vmlinux"), linux.vmlinux());
    Files.createSymbolicLink(images.resolve("rootfs.ext4"), linux.rootfs());
    Manifests.Example example =
        Manifests.examples(examples(), ns, images, linux.vmlinux().getParent()).stream()
            .filter(e -> e.file().getFileName().toString().equals("rate-limited-vm.yaml"))
            .findFirst()
            .orElseThrow();
    system.apply(example.object());

    MicroVM vm = system.awaitPhase(ns, "throttled", MicroVMPhase.Succeeded);
    assertThat(vm.getStatus().getExit().getReason()).isEqualTo("Reset");
    assertThat(node.console(ns, "throttled").body())
        .contains(linux.marker(), "root=disk", "HEARTH-GUEST-DONE failures=0");

    system.client().resource(vm).delete();
    system.awaitGone(ns, "throttled");
  }

  /**
   * examples/linux.yaml, the Linux test guest of {@code vmm/guest} (bzImage, 2 vCPUs, busybox
   * initramfs): its init checks the CPUs it sees, reports, and resets the VM.
   */
  @Test
  @RequiresLinuxKvm
  void theLinuxExampleBootsItsGuestToInitThroughTheWholeSystem() throws Exception {
    String ns = system.namespace("kvm-linux");
    TestGuest linux = TestGuest.locate();
    long threadsBefore = vcpuThreads();
    Manifests.Example example =
        Manifests.examples(examples(), ns, nodeImages(), linux.bzImage().getParent()).stream()
            .filter(e -> e.file().getFileName().toString().equals("linux.yaml"))
            .findFirst()
            .orElseThrow();
    system.apply(example.object());

    MicroVM vm = system.awaitPhase(ns, "linux", MicroVMPhase.Succeeded);
    assertThat(vm.getStatus().getStartTime()).as("it ran").isNotNull();
    assertThat(vm.getStatus().getExit().getReason()).isEqualTo("Reset");
    assertThat(node.console(ns, "linux").body())
        .contains(linux.marker(), "HEARTH-CHECK cpus OK", "HEARTH-GUEST-DONE failures=0");
    await().atMost(HearthSystem.PATIENCE).until(() -> vcpuThreads() == threadsBefore);

    system.client().resource(vm).delete();
    system.awaitGone(ns, "linux");
    assertThat(node.console(ns, "linux").statusCode()).isEqualTo(404);
  }

  private static RateLimiterSpec limiter(long bytesPerSecond) {
    return new RateLimiterSpec(new TokenBucketSpec(bytesPerSecond, 1000), null);
  }

  private static Path examples() {
    return ProjectRoot.find().resolve("examples");
  }

  /** Stand-ins for the files the examples name under /var/lib/hearth/images/ on a node. */
  private static Path nodeImages() throws IOException {
    Path images = Files.createDirectories(dir.resolve("node-images"));
    for (String name : Manifests.nodeImageNames(examples())) {
      Files.createDirectories(images.resolve(name).getParent());
      if (name.equals("hello.elf")) {
        // hello.yaml boots for real: the built guest, as ./hearth provides it.
        Files.copy(
            Manifests.guest("hello"), images.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      } else {
        Files.writeString(images.resolve(name), "stand-in for /var/lib/hearth/images/" + name);
      }
    }
    return images;
  }

  private static void scale(String ns, int replicas) {
    system.edit(
        MicroVMSet.class,
        ns,
        "idlers",
        s -> {
          s.getSpec().setReplicas(replicas);
          return s;
        });
  }

  private static List<MicroVM> members(String ns) {
    return system
        .client()
        .resources(MicroVM.class)
        .inNamespace(ns)
        .withLabel("app", "idlers")
        .list()
        .getItems();
  }

  private static long running(String ns) {
    return members(ns).stream()
        .filter(vm -> vm.getMetadata().getDeletionTimestamp() == null)
        .filter(vm -> phaseOf(vm) == MicroVMPhase.Running)
        .count();
  }
}
