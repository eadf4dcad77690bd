package dev.hearth.agent.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.ipam.Ipam;
import dev.hearth.vmm.testing.RequiresRoot;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real bridges, taps and nftables rules, inside a network namespace of the test's own. */
@RequiresRoot
class NodeNetworkTest {
  private static final List<NodeNetwork.InterfaceRequest> ETH0 =
      List.of(new NodeNetwork.InterfaceRequest("eth0", Optional.empty()));

  @TempDir Path dir;
  private final String netns = "hth-test-" + UUID.randomUUID().toString().substring(0, 8);
  private final CommandRunner host = HostCommands.host();
  private CommandRunner ns;
  private Ipam ipam;
  private NodeNetwork network;

  @BeforeAll
  static void tools() throws Exception {
    HostTools.ensureInstalled();
  }

  @BeforeEach
  void createNamespace() {
    host.run("ip", "netns", "add", netns);
    ns = HostCommands.inNamespace(netns);
    ipam = new Ipam(Cidr.parse("10.77.0.0/24"), dir.resolve("ipam"));
    network = new NodeNetwork(ns, TunTapFactory.inNamespace(netns), ipam, "hearth0");
    network.setUp();
  }

  @AfterEach
  void deleteNamespace() {
    try {
      for (String link : network.hearthLinks()) {
        ns.run("ip", "link", "del", "dev", link);
      }
    } finally {
      host.run("ip", "netns", "del", netns);
    }
  }

  /**
   * Other nodes' guest subnets get a route through their node address (marked proto 213), and nodes
   * that leave lose theirs; the kernel takes the ingress and un-NATed peer rules.
   */
  @Test
  void peersAreRoutedThroughTheirNodesAndIngressRulesLoad() {
    ns.run("ip", "link", "add", "uplink", "type", "veth", "peer", "name", "uplink-peer");
    ns.run("ip", "link", "set", "uplink-peer", "up");
    ns.run("ip", "addr", "add", "192.168.77.1/24", "dev", "uplink");
    ns.run("ip", "link", "set", "uplink", "up");
    network.peers(
        java.util.Map.of(
            IpBlock.parse("10.77.1.0/24"), java.net.InetAddress.ofLiteral("192.168.77.2"),
            IpBlock.parse("10.77.2.0/24"), java.net.InetAddress.ofLiteral("192.168.77.3"),
            // the node's own subnet is never routed elsewhere
            IpBlock.parse("10.77.0.0/24"), java.net.InetAddress.ofLiteral("192.168.77.4")));
    assertThat(ns.run("ip", "-4", "route", "show", "proto", "213"))
        .contains("10.77.1.0/24 via 192.168.77.2 dev uplink")
        .contains("10.77.2.0/24 via 192.168.77.3 dev uplink")
        .doesNotContain("10.77.0.0/24");
    GuestPolicy open =
        new GuestPolicy(
            "team-a",
            true,
            List.of(),
            List.of(
                new GuestPolicy.Ingress(
                    IpBlock.parse("10.244.0.0/16"),
                    List.of(new GuestPolicy.Ports(GuestPolicy.Protocol.TCP, 8080, 8080)))));
    network.attach("uid-a", open, ETH0);
    assertThat(ns.run("nft", "list", "table", "inet", "hearth"))
        .contains("ip daddr 10.77.0.2 ip saddr 10.244.0.0/16 tcp dport 8080 accept")
        .contains("jump to_guest");
    assertThat(ns.run("nft", "list", "table", "ip", "hearth"))
        // nft merges the two adjacent /24s into one interval
        .contains("ip daddr { 10.77.1.0-10.77.2.255 } accept");

    network.peers(
        java.util.Map.of(
            IpBlock.parse("10.77.2.0/24"), java.net.InetAddress.ofLiteral("192.168.77.5")));
    assertThat(ns.run("ip", "-4", "route", "show", "proto", "213"))
        .doesNotContain("10.77.1.0/24")
        .contains("10.77.2.0/24 via 192.168.77.5");
    network.tearDown();
    assertThat(ns.run("ip", "-4", "route", "show", "proto", "213")).isBlank();
  }

  @Test
  void setUpGivesTheBridgeTheGatewayAndEnablesNat() {
    assertThat(ns.run("ip", "-br", "addr", "show", "dev", "hearth0")).contains("10.77.0.1/24");
    assertThat(ns.run("cat", "/proc/sys/net/ipv4/ip_forward").strip()).isEqualTo("1");
    assertThat(ns.run("nft", "list", "table", "ip", "hearth"))
        .contains("ip saddr 10.77.0.0/24 ip daddr != 10.77.0.0/24 masquerade");
    network.setUp(); // idempotent
    assertThat(ns.run("nft", "list", "tables"))
        .contains("table ip hearth", "table bridge hearth", "table inet hearth");
  }

  /**
   * The kernel takes every form of the policy (peers, egress with and without ports, ranges) and
   * detaching a VM takes its rules away with its tap.
   */
  @Test
  void theKernelLoadsEachVmsPolicyAndDetachRemovesIt() {
    GuestPolicy open =
        new GuestPolicy(
            "team-a",
            true,
            List.of(
                new GuestPolicy.Egress(
                    IpBlock.parse("10.96.0.10/32"),
                    List.of(
                        new GuestPolicy.Ports(GuestPolicy.Protocol.UDP, 53, 53),
                        new GuestPolicy.Ports(GuestPolicy.Protocol.TCP, 8000, 8080),
                        GuestPolicy.Ports.all(GuestPolicy.Protocol.UDP))),
                new GuestPolicy.Egress(IpBlock.parse("169.254.169.254/32"), List.of())));
    Attachment a = network.attach("uid-a", open, ETH0).getFirst();
    Attachment b =
        network.attach("uid-b", new GuestPolicy("team-a", true, List.of()), ETH0).getFirst();
    Attachment c =
        network.attach("uid-c", new GuestPolicy("team-b", true, List.of()), ETH0).getFirst();
    String inet = ns.run("nft", "list", "table", "inet", "hearth");
    assertThat(inet)
        .contains("ip saddr 10.77.0.2 ip daddr 10.96.0.10 udp dport 53 accept")
        .contains("ip saddr 10.77.0.2 ip daddr 10.96.0.10 tcp dport 8000-8080 accept")
        .contains("ip saddr 10.77.0.2 ip daddr 169.254.169.254 accept")
        .contains("ip saddr 10.77.0.2 ip daddr 10.77.0.3 accept")
        .contains("fib daddr type local drop")
        .contains("ip daddr 169.254.0.0/16 drop")
        .doesNotContain("ip saddr 10.77.0.4 ip daddr");
    assertThat(ns.run("nft", "list", "table", "bridge", "hearth"))
        .contains("iifname \"" + a.tap() + "\" oifname \"" + b.tap() + "\" accept")
        .contains("iifname \"" + c.tap() + "\" ether type != ip ether type != arp drop");

    network.detach("uid-a");
    assertThat(ns.run("nft", "list", "table", "inet", "hearth"))
        .doesNotContain("10.77.0.2", "10.96.0.10");
    assertThat(ns.run("nft", "list", "table", "bridge", "hearth")).doesNotContain(a.tap());
  }

  @Test
  void attachWiresATapOnTheBridgeAndDetachRemovesEverything() {
    Attachment a = network.attach("uid-a", ETH0).getFirst();
    Attachment b = network.attach("uid-b", ETH0).getFirst();
    assertThat(a.ip().getHostAddress()).isEqualTo("10.77.0.2");
    assertThat(b.ip().getHostAddress()).isEqualTo("10.77.0.3");
    assertThat(a.tap()).startsWith("hth").hasSize(13);
    String details = ns.run("ip", "-d", "link", "show", "dev", a.tap());
    assertThat(details).contains("master hearth0", "tun type tap", "vnet_hdr on", "persist on");
    assertThat(ns.run("nft", "list", "table", "bridge", "hearth"))
        .contains("iifname \"" + a.tap() + "\" ip saddr != 10.77.0.2 drop")
        .contains("iifname \"" + b.tap() + "\" ether saddr != " + b.mac() + " drop");

    network.detach("uid-a");
    assertThat(network.hearthLinks()).containsExactly(b.tap());
    assertThat(ipam.allocations()).containsOnlyKeys("uid-b/eth0");
    assertThat(ns.run("nft", "list", "table", "bridge", "hearth")).doesNotContain(a.tap());
  }

  @Test
  void reattachingAfterARestartKeepsTheTapAndAddress() {
    Attachment before = network.attach("uid-a", ETH0).getFirst();
    NodeNetwork restarted =
        new NodeNetwork(
            ns,
            TunTapFactory.inNamespace(netns),
            new Ipam(ipam.subnet(), dir.resolve("ipam")),
            "hearth0");
    restarted.setUp();
    assertThat(restarted.attach("uid-a", ETH0).getFirst()).isEqualTo(before);
  }

  @Test
  void reconcileRemovesOrphanTapsAddressesAndRules() {
    Attachment keep = network.attach("live", ETH0).getFirst();
    Attachment gone = network.attach("gone", ETH0).getFirst();
    ns.run("ip", "tuntap", "add", "dev", "hth0000000000", "mode", "tap");
    ns.run("ip", "link", "add", "other0", "type", "bridge"); // not ours: untouched

    NodeNetwork restarted =
        new NodeNetwork(
            ns,
            TunTapFactory.inNamespace(netns),
            new Ipam(ipam.subnet(), dir.resolve("ipam")),
            "hearth0");
    assertThat(restarted.reconcile(Set.of("live/eth0")))
        .containsExactlyInAnyOrder(gone.tap(), "hth0000000000");
    assertThat(restarted.hearthLinks()).containsExactly(keep.tap());
    assertThat(ns.run("ip", "-br", "link", "show")).contains("other0");
    assertThat(new Ipam(ipam.subnet(), dir.resolve("ipam")).allocations())
        .containsOnlyKeys("live/eth0");
    assertThat(ns.run("nft", "list", "table", "bridge", "hearth")).doesNotContain(gone.tap());
  }

  @Test
  void aFailedAttachLeavesNothingBehind() {
    TapFactory failsOnSecond =
        new TapFactory() {
          final TapFactory real = TunTapFactory.inNamespace(netns);
          int created;

          @Override
          public void create(String name) {
            if (++created == 2) {
              throw new NetworkException("injected: cannot create " + name);
            }
            real.create(name);
          }

          @Override
          public void delete(String name) {
            real.delete(name);
          }
        };
    NodeNetwork flaky = new NodeNetwork(ns, failsOnSecond, ipam, "hearth0");
    var two =
        List.of(
            new NodeNetwork.InterfaceRequest("eth0", Optional.empty()),
            new NodeNetwork.InterfaceRequest("eth1", Optional.empty()));
    assertThatThrownBy(() -> flaky.attach("uid", two)).hasMessageContaining("injected");
    assertThat(flaky.hearthLinks()).isEmpty();
    assertThat(ipam.allocations()).isEmpty();
  }

  @Test
  void tearDownRemovesTapsBridgeAndTablesAndTheNextStartGivesTheSameAddressBack() {
    Attachment before = network.attach("uid-a", ETH0).getFirst();
    network.tearDown();
    assertThat(ns.run("ip", "-br", "link", "show"))
        .doesNotContain("hearth0")
        .doesNotContain(InterfaceNames.TAP_PREFIX);
    assertThat(ns.run("nft", "list", "tables")).doesNotContain("hearth");
    assertThat(ipam.allocations()).containsKey(NodeNetwork.owner("uid-a", "eth0"));

    // The agent's next start: the same tap and address for the VM it boots again.
    NodeNetwork next = new NodeNetwork(ns, TunTapFactory.inNamespace(netns), ipam, "hearth0");
    next.setUp();
    Attachment after = next.attach("uid-a", ETH0).getFirst();
    assertThat(after.tap()).isEqualTo(before.tap());
    assertThat(after.ip()).isEqualTo(before.ip());
    assertThat(ns.run("ip", "-d", "link", "show", "dev", after.tap())).contains("master hearth0");
  }
}
