package dev.hearth.e2e.system;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.net.NetNamespace;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.agent.testing.Loopback;
import dev.hearth.api.v1alpha1.EgressPort;
import dev.hearth.api.v1alpha1.EgressProtocol;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.NetworkPolicySpec;
import dev.hearth.api.v1alpha1.PeerRule;
import dev.hearth.vmm.harness.TestGuest;
import dev.hearth.vmm.testing.RequiresKvm;
import dev.hearth.vmm.testing.RequiresLinuxKvm;
import dev.hearth.vmm.testing.RequiresRoot;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real guests attack the node's guest network, as a tenant with root in its VM would, and the
 * default policy holds: the Linux test guest's {@code hearth.probe=} tries each destination and
 * prints what happened. Around the node's network namespace:
 *
 * <ul>
 *   <li>the node itself listens on port {@value #NODE_PORT} on every address (the agent's HTTP
 *       port, the kubelet);
 *   <li>an "outside" namespace behind a veth pair: {@value #OUTSIDE} (the Internet, through NAT),
 *       {@value #METADATA} (a cloud's metadata service) and {@value #SERVICE} (a Service address in
 *       the cluster's private network), each with a TCP listener that greets with its name, and a
 *       UDP listener that records what arrives;
 *   <li>two held guests: one in the attacker's namespace, one in another.
 * </ul>
 *
 * A guest reaches the outside and its own namespace's VM; not the node, not metadata, not the
 * Service, not the other namespace's VM; a datagram with a forged source never arrives. A second
 * guest whose {@code spec.networkPolicy.egress} opens the Service's port reaches it, and still not
 * metadata.
 */
@RequiresKvm
@RequiresLinuxKvm
@RequiresRoot
class GuestIsolationKvmIT {
  private static final String NODE = "iso-node";
  private static final Cidr SUBNET = Cidr.parse("10.97.0.0/24");
  private static final String GATEWAY = "10.97.0.1";
  private static final String NODE_UPLINK = "198.51.100.1";
  private static final String OUTSIDE = "198.51.100.2";
  private static final String METADATA = "169.254.169.254";
  private static final String SERVICE = "10.96.0.1";
  private static final int NODE_PORT = 9940;
  private static final int UDP_PORT = 9999;
  private static final String HOLD = " quiet hearth.hold=forever";

  @TempDir static Path dir;
  private static HearthSystem system;
  private static AgentNode node;
  private static TestGuest linux;
  private static String outsideNs;
  private static final List<AutoCloseable> listeners = new ArrayList<>();
  private static final ConcurrentLinkedQueue<String> datagrams = new ConcurrentLinkedQueue<>();

  /** The guests a test booted: deleted when it ends. */
  private final List<MicroVM> booted = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    Loopback.up();
    FakeNodes.requireNetworkTools();
    linux = TestGuest.locate();
    system = HearthSystem.start();
    system.addKubeletNode(NODE, Map.of());
    node =
        system.addNode(
            new AgentNode.Spec(
                NODE,
                dir.resolve("node"),
                SUBNET,
                () -> new VmmRuntime(dir.resolve("vsock")),
                16,
                4096,
                Optional::empty));
    outside();
  }

  /** The outside namespace, its addresses, the node's routes to them, and every listener. */
  private static void outside() throws Exception {
    outsideNs = "hearth-out-" + UUID.randomUUID().toString().substring(0, 8);
    var host = dev.hearth.agent.net.HostCommands.host();
    host.run("ip", "netns", "add", outsideNs);
    var out = dev.hearth.agent.net.HostCommands.inNamespace(outsideNs);
    var in = node.commands();
    host.run("ip", "link", "add", "hup0", "type", "veth", "peer", "name", "hout0");
    host.run("ip", "link", "set", "hup0", "netns", node.netnsFile().getFileName().toString());
    host.run("ip", "link", "set", "hout0", "netns", outsideNs);
    // A fresh namespace's loopback is down; the node reaches its own addresses through it.
    in.run("ip", "link", "set", "lo", "up");
    in.run("ip", "addr", "add", NODE_UPLINK + "/24", "dev", "hup0");
    in.run("ip", "link", "set", "hup0", "up");
    in.run("ip", "route", "add", METADATA + "/32", "via", OUTSIDE);
    in.run("ip", "route", "add", SERVICE + "/32", "via", OUTSIDE);
    out.run("ip", "link", "set", "lo", "up");
    for (String a : List.of(OUTSIDE + "/24", METADATA + "/32", SERVICE + "/32")) {
      out.run("ip", "addr", "add", a, "dev", "hout0");
    }
    out.run("ip", "link", "set", "hout0", "up");
    Path outsideFile = NetNamespace.named(outsideNs);
    tcp(outsideFile, OUTSIDE, 8080, "HEARTH-OUTSIDE");
    tcp(outsideFile, METADATA, 80, "HEARTH-METADATA");
    tcp(outsideFile, SERVICE, 443, "HEARTH-SERVICE");
    tcp(node.netnsFile(), "0.0.0.0", NODE_PORT, "HEARTH-NODE");
    DatagramSocket udp =
        NetNamespace.call(
            outsideFile, () -> new DatagramSocket(new InetSocketAddress(OUTSIDE, UDP_PORT)));
    listeners.add(udp);
    Thread.ofVirtual()
        .start(
            () -> {
              byte[] buf = new byte[512];
              while (!udp.isClosed()) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                  udp.receive(p);
                  datagrams.add(
                      new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII));
                } catch (IOException e) {
                  return;
                }
              }
            });
  }

  /** A TCP listener in {@code netns} that greets every connection with {@code greeting}. */
  private static void tcp(Path netns, String address, int port, String greeting) {
    ServerSocket server =
        NetNamespace.call(
            netns,
            () -> {
              ServerSocket s = new ServerSocket();
              s.bind(new InetSocketAddress(address, port));
              return s;
            });
    listeners.add(server);
    Thread.ofVirtual()
        .start(
            () -> {
              while (!server.isClosed()) {
                try (Socket c = server.accept();
                    OutputStream o = c.getOutputStream()) {
                  o.write((greeting + "\n").getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                  // Closed: the test is over.
                }
              }
            });
  }

  @AfterAll
  static void stop() throws Exception {
    for (AutoCloseable l : listeners) {
      l.close();
    }
    try {
      if (system != null) {
        system.close();
      }
    } finally {
      if (outsideNs != null) {
        dev.hearth.agent.net.HostCommands.host().run("ip", "netns", "del", outsideNs);
      }
    }
  }

  /**
   * Each test's guests go when it ends, so that the next boots alone: Linux guests booting beside
   * busy ones are what the nested harness sometimes faults (docs/architecture.md, "Testing").
   */
  @AfterEach
  void deleteGuests() {
    for (MicroVM vm : booted) {
      system.client().resource(vm).delete();
    }
    for (MicroVM vm : booted) {
      system.awaitGone(vm.getMetadata().getNamespace(), vm.getMetadata().getName());
    }
  }

  @Test
  void aGuestReachesTheOutsideAndItsNamespaceAndNothingElse() throws Exception {
    String ns = system.namespace("iso-a");
    String other = system.namespace("iso-b");
    String peer = held(ns, "peer", s -> s);
    String stranger = held(other, "stranger", s -> s);
    // The node's listener is up: the node itself reaches it at the guests' gateway.
    try (Socket s = NetNamespace.call(node.netnsFile(), () -> new Socket(GATEWAY, NODE_PORT))) {
      assertThat(new String(s.getInputStream().readNBytes(11), StandardCharsets.US_ASCII))
          .isEqualTo("HEARTH-NODE");
    }

    String console =
        probe(
            ns,
            "attacker",
            s -> s,
            "tcp:" + GATEWAY + ":" + NODE_PORT,
            "tcp:" + NODE_UPLINK + ":" + NODE_PORT,
            "tcp:" + METADATA + ":80",
            "tcp:" + SERVICE + ":443",
            "tcp:" + OUTSIDE + ":8080",
            "ping:" + peer,
            "ping:" + stranger,
            "spoof:" + peer + ":" + OUTSIDE + ":" + UDP_PORT,
            "udp:" + OUTSIDE + ":" + UDP_PORT);
    assertThat(console)
        .contains(
            "HEARTH-CHECK ping OK gw=" + GATEWAY,
            "HEARTH-PROBE tcp:" + GATEWAY + ":" + NODE_PORT + " timeout",
            "HEARTH-PROBE tcp:" + NODE_UPLINK + ":" + NODE_PORT + " timeout",
            "HEARTH-PROBE tcp:" + METADATA + ":80 timeout",
            "HEARTH-PROBE tcp:" + SERVICE + ":443 timeout",
            "HEARTH-PROBE tcp:" + OUTSIDE + ":8080 open data=HEARTH-OUTSIDE",
            "HEARTH-PROBE ping:" + peer + " reply",
            "HEARTH-PROBE ping:" + stranger + " timeout",
            "HEARTH-PROBE spoof:" + peer + ":" + OUTSIDE + ":" + UDP_PORT + " sent",
            "HEARTH-PROBE udp:" + OUTSIDE + ":" + UDP_PORT + " sent");
    // The control datagram, sent after the forged one, arrives (through NAT); the forged never.
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> datagrams.stream().anyMatch(d -> d.startsWith("HEARTH-UDP")));
    Thread.sleep(1000);
    assertThat(datagrams).noneMatch(d -> d.startsWith("HEARTH-SPOOF"));
  }

  @Test
  void egressOpensTheNamedServicePortAndNothingMore() throws Exception {
    String ns = system.namespace("iso-open");
    String console =
        probe(
            ns,
            "opener",
            s -> {
              NetworkPolicySpec policy = new NetworkPolicySpec();
              policy.setEgress(
                  List.of(
                      new PeerRule(
                          SERVICE + "/32", List.of(new EgressPort(EgressProtocol.TCP, 443)))));
              s.setNetworkPolicy(policy);
              return s;
            },
            "tcp:" + SERVICE + ":443",
            "tcp:" + METADATA + ":80",
            "tcp:" + GATEWAY + ":" + NODE_PORT);
    assertThat(console)
        .contains(
            "HEARTH-PROBE tcp:" + SERVICE + ":443 open data=HEARTH-SERVICE",
            "HEARTH-PROBE tcp:" + METADATA + ":80 timeout",
            "HEARTH-PROBE tcp:" + GATEWAY + ":" + NODE_PORT + " timeout");
  }

  /** Boots a held guest with one interface and returns its address once it is up. */
  private String held(String ns, String name, UnaryOperator<MicroVMSpec> customize)
      throws Exception {
    boot(linuxVm(ns, name, "hearth.check=net" + HOLD, customize));
    String ip =
        system
            .awaitPhase(ns, name, MicroVMPhase.Running)
            .getStatus()
            .getNetwork()
            .getFirst()
            .getIp();
    node.awaitConsole(ns, name, "HEARTH-HOLD");
    return ip;
  }

  /** Boots a guest that runs {@code probes} and returns its console once they are done. */
  private String probe(
      String ns, String name, UnaryOperator<MicroVMSpec> customize, String... probes)
      throws Exception {
    boot(
        linuxVm(
            ns,
            name,
            "hearth.check=net,ping hearth.probe=" + String.join(",", probes) + HOLD,
            customize));
    system.awaitPhase(ns, name, MicroVMPhase.Running);
    node.awaitConsole(ns, name, "HEARTH-PROBES-DONE");
    return node.console(ns, name).body();
  }

  private void boot(MicroVM vm) {
    booted.add(vm);
    system.apply(vm);
  }

  private static MicroVM linuxVm(
      String ns, String name, String cmdline, UnaryOperator<MicroVMSpec> customize) {
    return Manifests.vm(
        ns,
        name,
        ImageSource.ofPath(Manifests.underRoot(linux.vmlinux())),
        s -> {
          Manifests.withEth0(s);
          s.setMemoryMiB(128);
          s.setInitrd(ImageSource.ofPath(Manifests.underRoot(linux.initramfs())));
          s.getKernel().setCmdline(cmdline);
          return customize.apply(Manifests.never(s));
        });
  }
}
