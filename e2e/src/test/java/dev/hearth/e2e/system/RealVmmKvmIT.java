package dev.hearth.e2e.system;

import static dev.hearth.e2e.system.HearthSystem.phaseOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.node.HostProbe;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSet;
import dev.hearth.e2e.ProjectRoot;
import dev.hearth.vmm.harness.TestGuest;
import dev.hearth.vmm.kvm.Kvm;
import dev.hearth.vmm.testing.RequiresKvm;
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
 * checked and cached by the agent), and the Linux test guest of {@code vmm/guest} (kernel and
 * initramfs) to its init.
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

  @Test
  void theExamplesTheVmmCanRunRunAndTheOthersSayWhyNot() throws Exception {
    String ns = system.namespace("kvm-examples");
    Path examples = ProjectRoot.find().resolve("examples");
    Path nodeImages = Files.createDirectories(dir.resolve("node-images"));
    for (String name : Manifests.nodeImageNames(examples)) {
      Files.writeString(nodeImages.resolve(name), "stand-in for /var/lib/hearth/images/" + name);
    }
    for (var example : Manifests.examples(examples, ns, nodeImages)) {
      system.apply(example.object());
    }
    // hello.yaml: the tiny hello guest prints its command line and resets; restartPolicy Never.
    MicroVM hello = system.awaitPhase(ns, "hello", MicroVMPhase.Succeeded);
    assertThat(hello.getStatus().getExit().getReason()).isEqualTo("Reset");
    assertThat(node.console(ns, "hello").body())
        .contains("Hello from a Hearth guest! cmdline: console=ttyS0");
    // The others need a disk, an interface or vsock, which this VMM does not offer yet.
    for (String name : List.of("throttled", "linux-1")) {
      MicroVM vm = system.awaitPhase(ns, name, MicroVMPhase.Failed);
      assertThat(vm.getStatus().condition("Ready").orElseThrow().getReason())
          .isEqualTo("UnsupportedSpec");
      await()
          .atMost(HearthSystem.PATIENCE)
          .until(() -> system.hasEvent(ns, name, "UnsupportedSpec"));
    }
    await()
        .atMost(HearthSystem.PATIENCE)
        .until(
            () -> {
              var members =
                  system
                      .client()
                      .resources(MicroVM.class)
                      .inNamespace(ns)
                      .withLabel("app", "web")
                      .list()
                      .getItems();
              return members.size() == 3
                  && members.stream()
                      .allMatch(
                          vm ->
                              phaseOf(vm) == MicroVMPhase.Failed
                                  && vm.getStatus()
                                      .condition("Ready")
                                      .orElseThrow()
                                      .getReason()
                                      .equals("UnsupportedSpec"));
            });
  }

  @Test
  void theLinuxTestGuestBootsToItsInitAndIsDeleted() throws Exception {
    // A KVM without hardware virtualisation (these build machines' own, kvm_pvm) emulates every
    // instruction and cannot run Linux; the build runs this class inside the nested-KVM machine.
    assumeTrue(
        HostProbe.system().kvm().getCanRunLinux(),
        "this host's KVM cannot run a Linux guest (no vmx/svm); the nested-KVM machine can");
    TestGuest linux = TestGuest.locate();
    String ns = system.namespace("kvm-linux");
    long threadsBefore = vcpuThreads();
    system.apply(
        Manifests.vm(
            ns,
            "linux",
            ImageSource.ofPath(linux.vmlinux().toString()),
            s -> {
              s.setMemoryMiB(128);
              s.setInitrd(ImageSource.ofPath(linux.initramfs().toString()));
              // The init reports its checks, then halts: the VM stays up until it is deleted.
              s.getKernel().setCmdline("quiet hearth.check=cpus hearth.cpus=1 hearth.end=halt");
              return s;
            }));
    system.awaitPhase(ns, "linux", MicroVMPhase.Running);
    await()
        .atMost(HearthSystem.PATIENCE)
        .until(() -> node.console(ns, "linux").body().contains("HEARTH-GUEST-DONE"));
    assertThat(node.console(ns, "linux").body())
        .contains(linux.marker(), "HEARTH-CHECK cpus OK", "HEARTH-GUEST-DONE failures=0");
    assertThat(phaseOf(system.get(ns, "linux"))).isEqualTo(MicroVMPhase.Running);

    system.client().resources(MicroVM.class).inNamespace(ns).withName("linux").delete();
    system.awaitGone(ns, "linux");
    await().atMost(HearthSystem.PATIENCE).until(() -> vcpuThreads() == threadsBefore);
  }

  private static void scale(String ns, int replicas) {
    system
        .client()
        .resources(MicroVMSet.class)
        .inNamespace(ns)
        .withName("idlers")
        .edit(
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
