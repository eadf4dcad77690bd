package dev.hearth.e2e.system;

import static dev.hearth.e2e.system.HearthSystem.phaseOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSet;
import dev.hearth.e2e.ProjectRoot;
import dev.hearth.vmm.harness.TestGuest;
import dev.hearth.vmm.kvm.Kvm;
import dev.hearth.vmm.testing.RequiresKvm;
import dev.hearth.vmm.testing.RequiresLinuxKvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole system with the real embedded VMM on /dev/kvm: operator and a node agent against the
 * API server, booting the vmm module's tiny test guests from MicroVMs (kernels fetched over HTTP,
 * checked and cached by the agent), and the Linux test guest of {@code vmm/guest} from {@code
 * examples/linux.yaml}.
 *
 * <p>The VMM on this branch has no virtio-net, virtio-blk or vsock device yet, so these VMs have no
 * interface and no disk: the agent's guest network only allocates addresses here (the nested-KVM
 * machine, where the build runs this class, has no nftables for the real one), and IPs, taps and
 * live rate limits are checked by {@link ControlPlaneIT} with the real network and a fake runtime.
 */
@RequiresKvm
class RealVmmKvmIT {
  private static final String NODE = "kvm-node";

  @TempDir static Path dir;
  private static HearthSystem system;
  private static ImageServer images;
  private static AgentNode node;
  private static ImageSource idle;

  @BeforeAll
  static void start() throws Exception {
    Loopback.up();
    system = HearthSystem.start();
    images = new ImageServer();
    // The set example selects nodes labelled for web VMs.
    system.addKubeletNode(NODE, Map.of("hearth.dev/pool", "web"));
    node =
        system.addNode(
            new AgentNode.Spec(
                NODE,
                dir.resolve("node"),
                Cidr.parse("10.97.0.0/24"),
                VmmRuntime::new,
                AgentNode.NetworkMode.ADDRESSES_ONLY,
                16,
                4096,
                RealVmmKvmIT::kvmProblem));
    idle = images.publish(Manifests.guest("idle"));
  }

  private static Optional<String> kvmProblem() {
    try (Kvm kvm = Kvm.open()) {
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
                    && !vm.getStatus().getStartTime().equals(keep.getStatus().getStartTime()));
    assertThat(back.getStatus().condition("Ready").orElseThrow().getStatus()).isEqualTo("True");
    await().atMost(HearthSystem.PATIENCE).until(() -> vcpuThreads() == threadsBefore - 1);
    await()
        .atMost(HearthSystem.PATIENCE)
        .until(() -> node.console(ns, "keep").body().contains("idle\n"));
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
        Manifests.examples(examples(), ns, images, null).stream()
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

  private static Path examples() {
    return ProjectRoot.find().resolve("examples");
  }

  /** Stand-ins for the files the examples name under /var/lib/hearth/images/ on a node. */
  private static Path nodeImages() throws IOException {
    Path images = Files.createDirectories(dir.resolve("node-images"));
    for (String name : Manifests.nodeImageNames(examples())) {
      Files.writeString(images.resolve(name), "stand-in for /var/lib/hearth/images/" + name);
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

  /** Threads running a vCPU of some VM (the VMM names them {@code vcpu-<n>}). */
  private static long vcpuThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("vcpu-"))
        .count();
  }

  /** Fds on KVM objects (/dev/kvm, kvm-vm, kvm-vcpu): what a leaked VM would hold. */
  private static long kvmFds() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(
              fd -> {
                try {
                  return Files.readSymbolicLink(fd).toString().contains("kvm");
                } catch (IOException e) {
                  return false; // closed while listing
                }
              })
          .count();
    }
  }
}
