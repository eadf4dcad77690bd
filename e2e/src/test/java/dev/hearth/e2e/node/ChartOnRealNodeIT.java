package dev.hearth.e2e.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.NetworkInterfaceStatus;
import dev.hearth.e2e.Command;
import dev.hearth.e2e.ProjectRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The chart on a real node of this host, as a user runs it: {@code helm install} of {@code
 * helm/hearth} with only the image values set (images built from {@code docker/*.Dockerfile} on the
 * project's own base, never pulled), the operator Deployment and agent DaemonSet Ready through
 * their own probes, ServiceAccounts and RBAC, the agent unprivileged (its capabilities, seccomp
 * mode and device cgroup read from the node); every file of {@code examples/} applied with {@code
 * kubectl apply -f} as written; then {@code helm upgrade} to the privileged fallback and {@code
 * helm uninstall} plus deleting the CRDs, after which nothing of Hearth is left on the node.
 *
 * <p>Where the examples run: {@code hello.yaml} boots here to Succeeded (the tiny test guests run
 * on any KVM, this host's instruction-emulating one included). The Linux examples ({@code
 * linux.yaml}, {@code rate-limited-vm.yaml}, {@code vm-with-disk-and-network.yaml}, and the Linux
 * template of {@code microvmset.yaml}) are stored as written and taken up by the operator here
 * (bound, or Pending with the reason), and boot only where the KVM runs Linux, in the nested-KVM
 * harness: {@code RealVmmKvmIT} boots linux and rate-limited-vm, {@code GuestNetworkKvmIT}
 * vm-with-disk-and-network; the set's replicas run with a fake runtime in {@code
 * ExamplesAndErrorsIT}.
 *
 * <p>Needs root, {@code /dev/kvm} and the Kubernetes binaries of {@code test-cluster}; without them
 * it is skipped with one line, except under {@code CI=true}, where it fails. The node is {@link
 * SharedRealNode}'s, one for every real-node class of the run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(SharedRealNode.class)
class ChartOnRealNodeIT {
  private static final Path ROOT = ProjectRoot.find();

  private static final String HELLO_GREETING = "Hello from a Hearth guest!";

  private Path tmp;
  private RealNode node;
  private final NodeGuests guests = new NodeGuests();
  private HearthRelease release;
  private String idleTap;

  @BeforeAll
  void start(SharedRealNode.Fixture fixture) throws IOException {
    node = fixture.node();
    tmp = Files.createTempDirectory(fixture.tmp(), "chart-");
    release = new HearthRelease(node, fixture.images());
    guests.copy("hello.elf");
    guests.copy("idle.elf");
  }

  @AfterAll
  void stop() throws IOException {
    // The node is shared (SharedRealNode): leave it as this class found it.
    if (release != null) { // after a failed test
      release.removeWithCrds();
    }
    guests.restore();
  }

  @Test
  @Order(1)
  void chartInstallsAndItsPodsBecomeReady() {
    Timed.run("helm install to Ready", release::install);
    // The agent registered its node through its own ServiceAccount.
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () ->
                assertThat(
                        node.plane()
                            .client()
                            .resources(MicroVMNode.class)
                            .withName(node.name())
                            .get())
                    .as("MicroVMNode %s", node.name())
                    .isNotNull());
  }

  /**
   * The chart's defaults run the agent unprivileged, and the kernel says so: the running agent
   * process has exactly CAP_NET_ADMIN effective (and nothing more it could regain: bounding,
   * permitted and inheritable sets alike), a seccomp filter (RuntimeDefault), no_new_privs, and a
   * device cgroup that allows /dev/kvm and /dev/net/tun because Hearth's device plugin allocated
   * them. The examples that follow boot VMs with taps through this agent.
   */
  @Test
  @Order(2)
  void theAgentRunsUnprivilegedWithNetAdminOnly() throws IOException {
    long pid = agentPid();
    var status = NodeHost.procStatus(pid);
    System.err.printf(
        "hearth-node: agent pid %d: Uid %s, CapEff %s, CapPrm %s, CapBnd %s, CapInh %s, CapAmb %s,"
            + " Seccomp %s, NoNewPrivs %s%n",
        pid,
        status.get("Uid"),
        status.get("CapEff"),
        status.get("CapPrm"),
        status.get("CapBnd"),
        status.get("CapInh"),
        status.get("CapAmb"),
        status.get("Seccomp"),
        status.get("NoNewPrivs"));
    long netAdmin = 1L << 12; // CAP_NET_ADMIN
    SoftAssertions soft = new SoftAssertions();
    for (String set : List.of("CapEff", "CapPrm", "CapBnd")) {
      soft.assertThat(Long.parseUnsignedLong(status.get(set), 16)).as(set).isEqualTo(netAdmin);
    }
    soft.assertThat(Long.parseUnsignedLong(status.get("CapInh"), 16)).as("CapInh").isZero();
    soft.assertThat(Long.parseUnsignedLong(status.get("CapAmb"), 16)).as("CapAmb").isZero();
    soft.assertThat(status.get("Seccomp")).as("Seccomp (2: filter)").isEqualTo("2");
    soft.assertThat(status.get("NoNewPrivs")).as("NoNewPrivs").isEqualTo("1");
    // Still root (uid 0) in the node's user namespace: what remains, see docs/security.md.
    soft.assertThat(status.get("Uid")).as("Uid").startsWith("0");
    List<String> devices = NodeHost.deviceCgroupAllows(pid);
    System.err.printf("hearth-node: agent device cgroup: %s%n", devices);
    if (!devices.isEmpty()) { // cgroup v1: the allowlist is readable; v2 keeps it in eBPF
      for (String device : List.of("c 10:232 ", "c 10:200 ")) { // kvm, tun
        soft.assertThat(devices)
            .as("devices.list allows %s", device)
            .anyMatch(d -> d.startsWith(device) && (d.endsWith(" rw") || d.endsWith(" rwm")));
      }
      soft.assertThat(devices).as("devices.list").doesNotContain("a *:* rwm");
    }
    soft.assertAll();
  }

  /** The host PID of the running agent container's main process. */
  private long agentPid() throws IOException {
    String containerId =
        node.kubectl(
                "-n",
                HearthRelease.NAMESPACE,
                "get",
                "pods",
                "-l",
                "app.kubernetes.io/component=agent",
                "--field-selector",
                "status.phase=Running",
                "-o",
                "jsonpath={.items[0].status.containerStatuses[0].containerID}")
            .orFail("the agent pod's container")
            .stdout()
            .strip()
            .replaceFirst("^containerd://", "");
    assertThat(containerId).matches("[0-9a-f]{64}");
    return NodeHost.processOfContainer(containerId);
  }

  @Test
  @Order(3)
  void everyExampleAppliedAsWrittenIsHandled() throws IOException {
    List<Path> examples;
    try (Stream<Path> files = Files.list(ROOT.resolve("examples"))) {
      examples = files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(examples).isNotEmpty();
    Path hello = ROOT.resolve("examples/hello.yaml");
    assertThat(examples).contains(hello);
    Timed.run(
        "examples",
        () -> {
          // hello boots here: Succeeded, and the agent's console has the guest's greeting.
          node.kubectl("apply", "-f", hello.toString()).orFail("kubectl apply -f " + hello);
          await()
              .atMost(Duration.ofSeconds(90))
              .untilAsserted(
                  () -> assertThat(phase("hello")).as("phase of hello").isEqualTo("Succeeded"));
          assertThat(NodeHost.console(node.plane(), "default", "hello")).contains(HELLO_GREETING);
          // The Linux examples: stored as written, and each taken up by the operator, bound to
          // this node or Pending with the reason (they boot in the nested-KVM harness).
          for (Path example : examples) {
            node.kubectl("apply", "-f", example.toString()).orFail("kubectl apply -f " + example);
          }
          for (String name : List.of("linux", "throttled", "linux-1")) {
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertHandled(vm(name)));
          }
          // The set makes its replicas (owner references, the set's own RBAC on a real server).
          await()
              .atMost(Duration.ofSeconds(60))
              .untilAsserted(
                  () -> {
                    List<MicroVM> web = webReplicas();
                    assertThat(web).hasSize(3);
                    web.forEach(this::assertHandled);
                  });
          for (String name : List.of("linux", "throttled", "linux-1")) {
            System.err.printf("hearth-node: example %s: %s%n", name, Vms.describe(vm(name)));
          }
          System.err.printf(
              "hearth-node: example web (set): %s%n", Vms.describe(webReplicas().getFirst()));
          // Deleting them goes through the agent's finalizer where bound: none may stay behind.
          for (Path example : examples) {
            node.kubectl("delete", "-f", example.toString(), "--timeout=90s")
                .orFail("kubectl delete -f " + example);
          }
          await()
              .atMost(Duration.ofSeconds(60))
              .untilAsserted(
                  () ->
                      assertThat(
                              node.plane()
                                  .client()
                                  .resources(MicroVM.class)
                                  .inAnyNamespace()
                                  .list()
                                  .getItems())
                          .isEmpty());
        });
  }

  /** The operator took the VM up: bound to this node, or Pending and saying why. */
  private void assertHandled(MicroVM vm) {
    assertThat(vm).isNotNull();
    assertThat(vm.getStatus()).as("status of %s", vm.getMetadata().getName()).isNotNull();
    var scheduled =
        vm.getStatus().getConditions().stream()
            .filter(c -> "Scheduled".equals(c.getType()))
            .findFirst();
    assertThat(scheduled).as("Scheduled condition of %s", vm.getMetadata().getName()).isPresent();
    if ("True".equals(scheduled.get().getStatus())) {
      assertThat(vm.getStatus().getNodeName()).isEqualTo(node.name());
    } else {
      assertThat(vm.getStatus().getPhase()).hasToString("Pending");
      assertThat(scheduled.get().getReason()).isEqualTo("Unschedulable");
      assertThat(scheduled.get().getMessage()).isNotBlank();
    }
  }

  private List<MicroVM> webReplicas() {
    return node.plane()
        .client()
        .resources(MicroVM.class)
        .inNamespace("default")
        .withLabel("app", "web")
        .list()
        .getItems();
  }

  @Test
  @Order(4)
  void helmUpgradeToThePrivilegedFallbackKeepsARunningVmConsistent() throws IOException {
    String manifest = Vms.idleVm();
    node.kubectl("apply", "-f", write("idle.yaml", manifest)).orFail("kubectl apply idle");
    await()
        .atMost(Duration.ofSeconds(90))
        .untilAsserted(() -> assertThat(phase("idle")).isEqualTo("Running"));
    MicroVM before = vm("idle");
    Timed.run(
        "helm upgrade to Ready",
        () ->
            release.upgrade(
                "operator.logLevel=debug", "agent.logLevel=debug", "agent.kvmAccess=privileged"));
    // The agent restarted: it boots the VM again (restartPolicy Always) on the same node; the
    // object is the same one, its status describes the current run.
    await()
        .atMost(Duration.ofSeconds(120))
        .untilAsserted(
            () -> {
              MicroVM after = vm("idle");
              assertThat(after.getMetadata().getUid()).isEqualTo(before.getMetadata().getUid());
              assertThat(after.getStatus().getPhase()).hasToString("Running");
              assertThat(after.getStatus().getNodeName()).isEqualTo(node.name());
              assertThat(after.getStatus().getObservedGeneration())
                  .isEqualTo(after.getMetadata().getGeneration());
              assertThat(after.getMetadata().getFinalizers())
                  .containsExactlyInAnyOrderElementsOf(before.getMetadata().getFinalizers());
              assertThat(after.getStatus().getNetwork()).hasSize(1);
            });
    idleTap =
        vm("idle").getStatus().getNetwork().stream()
            .map(NetworkInterfaceStatus::getTap)
            .findFirst()
            .orElseThrow();
    assertThat(NodeHost.command("ip", "link", "show", idleTap).status())
        .as("tap %s", idleTap)
        .isZero();
    // The upgrade also switched to the privileged fallback, which boots the VM as well: every
    // capability and no seccomp filter, where the default had NET_ADMIN and RuntimeDefault.
    var status = NodeHost.procStatus(agentPid());
    System.err.printf(
        "hearth-node: privileged agent: CapEff %s, Seccomp %s%n",
        status.get("CapEff"), status.get("Seccomp"));
    assertThat(Long.bitCount(Long.parseUnsignedLong(status.get("CapEff"), 16))).isGreaterThan(30);
    assertThat(status.get("Seccomp")).isEqualTo("0");
  }

  @Test
  @Order(5)
  void uninstallAndDeletingTheCrdsLeaveNothing() throws IOException {
    // The pre-delete hook deletes the idle VM while its agent still runs; the agent stops it and
    // removes its finalizer, then removes the bridge, taps and tables as it stops itself.
    Timed.run("uninstall, pods gone", release::uninstall);
    List<String> deleteCrds = new ArrayList<>(List.of("delete", "crd", "--timeout=60s"));
    deleteCrds.addAll(HearthRelease.CRDS);
    Command.Result deleted =
        Timed.step("delete CRDs", () -> node.kubectl(deleteCrds.toArray(String[]::new)));
    // Everything is checked, so that one run reports all that is left.
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(deleted.status())
        .as(
            "deleting the CRDs (%s); MicroVMs left: %s",
            deleted.stderr().strip(),
            node.kubectl(
                    "get",
                    "microvms",
                    "-A",
                    "-o",
                    "jsonpath={range .items[*]}{.metadata.name} finalizers={.metadata.finalizers} {end}")
                .stdout())
        .isZero();
    soft.assertThat(node.kubectl("get", "clusterrole", HearthRelease.NAME + "-uninstall").status())
        .as("the hook's ClusterRole, deleted once the hook succeeded")
        .isNotZero();
    soft.assertThat(
            NodeHost.hearthLeftovers(
                NodeGuests.DATA_DIR, idleTap == null ? List.of() : List.of(idleTap)))
        .as("Hearth's links, nftables tables and VM directories left on the node")
        .isEmpty();
    soft.assertAll();
  }

  private MicroVM vm(String name) {
    return node.plane()
        .client()
        .resources(MicroVM.class)
        .inNamespace("default")
        .withName(name)
        .get();
  }

  private String phase(String name) {
    MicroVM vm = vm(name);
    return vm == null || vm.getStatus() == null || vm.getStatus().getPhase() == null
        ? null
        : vm.getStatus().getPhase().toString();
  }

  private String write(String file, String content) {
    try {
      return Files.writeString(tmp.resolve(file), content).toString();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
