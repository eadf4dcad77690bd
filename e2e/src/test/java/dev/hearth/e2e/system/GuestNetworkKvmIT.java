package dev.hearth.e2e.system;

import static dev.hearth.vmm.testing.KvmResources.kvmFds;
import static dev.hearth.vmm.testing.KvmResources.vcpuThreads;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.net.NetNamespace;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.agent.testing.Loopback;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.NetworkInterfaceStatus;
import dev.hearth.api.v1alpha1.ReadinessProbe;
import dev.hearth.api.v1alpha1.TcpSocketProbe;
import dev.hearth.e2e.ProjectRoot;
import dev.hearth.vmm.harness.TestGuest;
import dev.hearth.vmm.testing.HybridVsockClient;
import dev.hearth.vmm.testing.RequiresKvm;
import dev.hearth.vmm.testing.RequiresLinuxKvm;
import dev.hearth.vmm.testing.RequiresRoot;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Linux test guest on a node's real guest network, through operator, agent and VMM: the agent
 * gives each interface an address from the node's subnet and a tap on bridge {@code hearth0} (in a
 * network namespace of the node's own, where its VMs also start), the guest's init configures
 * itself from the agent's {@code ip=} and stays up when asked ({@code hearth.hold}), and the node
 * reaches it by ICMP. Deletion leaves no tap, address, vCPU thread, KVM fd or VM directory.
 *
 * <p>The examples run with the user's command line plus the init's options that make the guest
 * check its devices and stay up, so that the node can reach it before the test deletes it.
 */
@RequiresKvm
@RequiresLinuxKvm
@RequiresRoot
class GuestNetworkKvmIT {
  private static final String NODE = "net-node";
  private static final Cidr SUBNET = Cidr.parse("10.98.0.0/24");
  private static final int VSOCK_PORT = 5000;
  private static final String HOLD = " quiet hearth.hold=forever";

  @TempDir static Path dir;
  private static HearthSystem system;
  private static AgentNode node;
  private static TestGuest linux;

  @BeforeAll
  static void start() throws Exception {
    Loopback.up();
    FakeNodes.requireNetworkTools();
    linux = TestGuest.locate();
    system = HearthSystem.start();
    // The set example selects nodes labelled for web VMs.
    system.addKubeletNode(NODE, Map.of("hearth.dev/pool", "web"));
    node =
        system.addNode(
            new AgentNode.Spec(
                NODE,
                dir.resolve("node"),
                SUBNET,
                () -> new VmmRuntime(vsockDir()),
                16,
                4096,
                Optional::empty));
  }

  @AfterAll
  static void stop() {
    if (system != null) {
      system.close();
    }
  }

  /**
   * apply → scheduled → Running with an IP → the guest pings its gateway (the bridge) and the node
   * pings the guest → delete → nothing left, and the address no longer answers.
   */
  @Test
  void aLinuxGuestIsReachableAtItsAddressFromTheNodeUntilDeleted() throws Exception {
    String ns = system.namespace("net-ping");
    long fdsBefore = kvmFds();
    long threadsBefore = vcpuThreads();
    system.apply(
        Manifests.vm(
            ns,
            "pingable",
            ImageSource.ofPath(Manifests.underRoot(linux.vmlinux())),
            s -> {
              Manifests.withEth0(s);
              s.setMemoryMiB(128);
              s.setInitrd(ImageSource.ofPath(Manifests.underRoot(linux.initramfs())));
              s.getKernel().setCmdline("hearth.check=net,ping" + HOLD);
              return Manifests.never(s);
            }));

    MicroVM vm = system.awaitPhase(ns, "pingable", MicroVMPhase.Running);
    assertThat(vm.getStatus().getNodeName()).isEqualTo(NODE);
    String uid = vm.getMetadata().getUid();
    NetworkInterfaceStatus nic = vm.getStatus().getNetwork().getFirst();
    String ip = nic.getIp();
    assertThat(inSubnet(ip)).as(ip + " in " + SUBNET).isTrue();
    assertThat(node.linkDetails(nic.getTap())).contains("master hearth0", "tun type tap");
    node.awaitConsole(ns, "pingable", "HEARTH-HOLD");
    await()
        .atMost(HearthSystem.PATIENCE)
        .pollInterval(Duration.ofMillis(500))
        .until(() -> node.reachable(ip));
    assertThat(node.console(ns, "pingable").body())
        .contains(
            linux.marker(),
            "HEARTH-NET ip=" + ip + " dev=eth0",
            "HEARTH-CHECK ping OK",
            "HEARTH-GUEST-DONE failures=0");
    assertThat(vcpuThreads()).isEqualTo(threadsBefore + 1);

    system.client().resource(vm).delete();
    system.awaitGone(ns, "pingable");
    await().atMost(HearthSystem.PATIENCE).until(() -> vcpuThreads() == threadsBefore);
    await().atMost(HearthSystem.PATIENCE).until(() -> kvmFds() == fdsBefore);
    assertThat(node.taps()).doesNotContain(nic.getTap());
    assertThat(node.addresses()).doesNotContainKey(uid + "/eth0");
    assertThat(node.reachable(ip)).as(ip + " answers after its VM is gone").isFalse();
    assertThat(node.daemon().agent().runningVms()).doesNotContain(ns + "/pingable");
  }

  /**
   * examples/vm-with-disk-and-network.yaml with node images made real: Linux boots from its own
   * copy of the rootfs, sees the data disk, answers at its address with the example's MAC, and
   * echoes a line over vsock through the agent's socket. Deleting it removes the copies too.
   */
  @Test
  void theDiskAndNetworkExampleBootsWithItsDisksAddressAndVsock() throws Exception {
    String ns = system.namespace("net-disk");
    long threadsBefore = vcpuThreads();
    MicroVM vm = (MicroVM) example(ns, "vm-with-disk-and-network.yaml");
    MicroVMSpec spec = vm.getSpec();
    spec.getKernel()
        .setCmdline(
            spec.getKernel().getCmdline()
                + " hearth.check=rootfs,blk,net,ping,vsock hearth.vsock-port="
                + VSOCK_PORT
                + HOLD);
    system.apply(vm);

    MicroVM running = system.awaitPhase(ns, "linux-1", MicroVMPhase.Running);
    String uid = running.getMetadata().getUid();
    NetworkInterfaceStatus nic = running.getStatus().getNetwork().getFirst();
    assertThat(nic.getMac()).isEqualTo("02:48:45:00:00:01");
    assertThat(inSubnet(nic.getIp())).as(nic.getIp() + " in " + SUBNET).isTrue();
    assertThat(node.vmDirectories()).contains(uid);
    node.awaitConsole(ns, "linux-1", "HEARTH-VSOCK listening port=" + VSOCK_PORT);
    Path socket = onlyVsockSocket();
    HybridVsockClient.Exchange echo =
        HybridVsockClient.exchange(socket, VSOCK_PORT, "hello from " + NODE);
    assertThat(echo.connected()).as("the device's answer to CONNECT").matches("OK \\d+");
    assertThat(echo.reply()).isEqualTo("HEARTH-ECHO hello from " + NODE);
    node.awaitConsole(ns, "linux-1", "HEARTH-HOLD");
    await()
        .atMost(HearthSystem.PATIENCE)
        .pollInterval(Duration.ofMillis(500))
        .until(() -> node.reachable(nic.getIp()));
    assertThat(node.console(ns, "linux-1").body())
        .contains(
            "root=disk",
            "HEARTH-CHECK rootfs OK",
            "HEARTH-CHECK blk OK",
            "HEARTH-CHECK ping OK",
            "HEARTH-CHECK vsock OK",
            "HEARTH-NET ip=" + nic.getIp() + " dev=eth0",
            "HEARTH-GUEST-DONE failures=0");
    assertThat(vcpuThreads()).isEqualTo(threadsBefore + 2);

    system.client().resource(running).delete();
    system.awaitGone(ns, "linux-1");
    await().atMost(HearthSystem.PATIENCE).until(() -> vcpuThreads() == threadsBefore);
    assertThat(node.taps()).doesNotContain(nic.getTap());
    assertThat(node.addresses()).doesNotContainKey(uid + "/eth0");
    assertThat(node.vmDirectories()).doesNotContain(uid);
    assertThat(Files.exists(socket)).as(socket + " after delete").isFalse();
  }

  /**
   * The Linux guest serves the probed port ({@code hearth.serve}) and the agent's real readiness
   * prober follows it: Ready ({@code ProbeSucceeded}) while the guest's server accepts, the node
   * gets the guest's answer naming itself, and once the guest stops serving (its {@code GET /stop})
   * the VM is not Ready ({@code ProbeFailed}) while it still runs.
   */
  @Test
  void theAgentsReadinessProbeFollowsTheLinuxGuestsServer() throws Exception {
    String ns = system.namespace("net-ready");
    system.apply(
        Manifests.vm(
            ns,
            "served",
            ImageSource.ofPath(Manifests.underRoot(linux.vmlinux())),
            s -> {
              Manifests.withEth0(s);
              s.setMemoryMiB(128);
              s.setInitrd(ImageSource.ofPath(Manifests.underRoot(linux.initramfs())));
              s.getKernel().setCmdline("hearth.serve=8080" + HOLD);
              ReadinessProbe probe = new ReadinessProbe(new TcpSocketProbe(8080));
              probe.setPeriodSeconds(1);
              probe.setFailureThreshold(2);
              s.setReadinessProbe(probe);
              return Manifests.never(s);
            }));
    MicroVM vm = system.awaitPhase(ns, "served", MicroVMPhase.Running);
    String ip = vm.getStatus().getNetwork().getFirst().getIp();
    // Booting under nested KVM takes its time: first the server, then the probe's verdict.
    node.awaitConsole(ns, "served", "HEARTH-SERVE listening port=8080");
    await()
        .atMost(HearthSystem.PATIENCE)
        .untilAsserted(
            () ->
                assertThat(ready(ns, "served"))
                    .as("Ready; console:%n%s", node.console(ns, "served").body())
                    .isEqualTo("True ProbeSucceeded"));
    assertThat(fetch(ip, "/")).endsWith("\r\n\r\nHello from Hearth VM served\n");

    assertThat(fetch(ip, "/stop")).startsWith("HTTP/1.0 200 OK");
    node.awaitConsole(ns, "served", "HEARTH-SERVE stopped port=8080");
    await()
        .atMost(HearthSystem.PATIENCE)
        .untilAsserted(() -> assertThat(ready(ns, "served")).isEqualTo("False ProbeFailed"));
    assertThat(system.client().resource(vm).get().getStatus().getPhase())
        .isEqualTo(MicroVMPhase.Running);
    system.client().resource(vm).delete();
    system.awaitGone(ns, "served");
  }

  /** The Ready condition's status and reason. */
  private static String ready(String ns, String name) {
    MicroVM vm = system.client().resources(MicroVM.class).inNamespace(ns).withName(name).get();
    return vm.getStatus().getConditions().stream()
        .filter(c -> "Ready".equals(c.getType()))
        .map(c -> c.getStatus() + " " + c.getReason())
        .findFirst()
        .orElse("none");
  }

  /** {@code GET path} from the node's namespace, as HTTP/1.0: the whole response. */
  private static String fetch(String ip, String path) {
    return NetNamespace.call(
        node.netnsFile(),
        () -> {
          try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(ip, 8080), 5000);
            socket.setSoTimeout(5000);
            socket
                .getOutputStream()
                .write(("GET " + path + " HTTP/1.0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
          }
        });
  }

  private static Path vsockDir() {
    return dir.resolve("vsock");
  }

  /** The one vsock socket on the node (only the disk-and-network example has a vsock device). */
  private static Path onlyVsockSocket() throws IOException {
    try (Stream<Path> list = Files.list(vsockDir())) {
      List<Path> sockets = list.filter(p -> p.toString().endsWith(".sock")).toList();
      assertThat(sockets).as("vsock sockets in " + vsockDir()).hasSize(1);
      return sockets.getFirst();
    }
  }

  private static boolean inSubnet(String ip) throws IOException {
    return SUBNET.contains(ByteBuffer.wrap(InetAddress.getByName(ip).getAddress()).getInt());
  }

  /**
   * An example manifest, its node images made real: the Linux guest's vmlinux and ext4 rootfs, and
   * a blank data disk.
   */
  private static HasMetadata example(String ns, String file) throws IOException {
    Path images = Files.createDirectories(dir.resolve("node-images"));
    for (Map.Entry<String, Path> link :
        Map.of("vmlinux", linux.vmlinux(), "rootfs.ext4", linux.rootfs()).entrySet()) {
      if (!Files.exists(images.resolve(link.getKey()), LinkOption.NOFOLLOW_LINKS)) {
        Files.createSymbolicLink(images.resolve(link.getKey()), link.getValue());
      }
    }
    Path data = images.resolve("data.ext4");
    if (!Files.exists(data)) {
      Files.write(data, new byte[1 << 20]);
    }
    Path examples = ProjectRoot.find().resolve("examples");
    return Manifests.examples(examples, ns, images, linux.vmlinux().getParent()).stream()
        .filter(e -> e.file().getFileName().toString().equals(file))
        .findFirst()
        .orElseThrow()
        .object();
  }
}
