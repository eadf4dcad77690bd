package dev.hearth.agent.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.ipam.Cidr;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rule text of the default policy, one attack per test: each assertion names a rule whose
 * absence lets a guest do what the test's name says it cannot. {@code NodeNetworkTest} loads the
 * same text into a real kernel, and {@code GuestIsolationKvmIT} attacks it from real guests.
 */
class FirewallRulesTest {
  private static final Cidr SUBNET = Cidr.parse("10.200.0.0/24");
  private static final List<IpBlock> CLUSTER =
      List.of(IpBlock.parse("10.96.0.0/12"), IpBlock.parse("10.244.0.0/16"));

  private final FirewallRules rules =
      new FirewallRules((argv, in) -> "", NetworkNames.agent("hearth0"), SUBNET, CLUSTER);

  private static Attachment nic(String owner, int host) {
    return new Attachment(
        "eth0",
        owner,
        InterfaceNames.tapName(owner),
        InterfaceNames.mac(owner),
        Cidr.toInet(SUBNET.network() + host),
        SUBNET,
        Cidr.toInet(SUBNET.gateway()));
  }

  private static FirewallRules.Guest guest(String owner, int host, GuestPolicy policy) {
    return new FirewallRules.Guest(nic(owner, host), policy);
  }

  private static GuestPolicy namespace(String ns) {
    return new GuestPolicy(ns, true, List.of());
  }

  @Test
  void aTapSendsOnlyFromItsOwnMacAndIpv4AddressAndNoIpv6() {
    Attachment a = nic("a/eth0", 2);
    String tap = "iifname \"" + a.tap() + "\"";
    String text = rules.render(List.of(new FirewallRules.Guest(a, namespace("ns"))));
    assertThat(text)
        .contains(tap + " ether saddr != " + a.mac() + " drop")
        .contains(tap + " ether type != ip ether type != arp drop")
        .contains(tap + " arp saddr ether != " + a.mac() + " drop")
        .contains(tap + " arp saddr ip != 10.200.0.2 drop")
        .contains(tap + " ip saddr != 10.200.0.2 drop");
    // The checks come before the tap's accept, and a tap no VM owns sends nothing.
    assertThat(text.indexOf(tap + " ip saddr != ")).isLessThan(text.indexOf(tap + " accept"));
    assertThat(text).contains("    iifname \"hth*\" drop\n  }\n  chain peers {");
  }

  @Test
  void aGuestReachesNoneOfTheNodesOwnAddressesBeforeAnyDnat() {
    String text = rules.render(List.of(guest("a/eth0", 2, namespace("ns"))));
    assertThat(text)
        .contains("type filter hook prerouting priority -150; policy accept;")
        .contains("iifname \"hearth0\" jump from_guest")
        .contains("iifname \"hth*\" jump from_guest")
        .contains("fib daddr type local drop")
        .contains("fib daddr type broadcast drop")
        .contains("fib daddr type multicast drop")
        .contains("meta nfproto ipv6 drop");
    // The one exception: an ICMP echo to the gateway (the guest's own liveness check).
    assertThat(text).contains("ip daddr 10.200.0.1 icmp type echo-request accept");
    assertThat(text.indexOf("icmp type echo-request accept"))
        .isLessThan(text.indexOf("fib daddr type local drop"));
  }

  @Test
  void aGuestReachesNeitherMetadataNorTheClusterNetworksButTheOutsideThroughNat() {
    String text = rules.render(List.of(guest("a/eth0", 2, namespace("ns"))));
    assertThat(text)
        .contains("ip daddr 169.254.0.0/16 drop")
        .contains("ip daddr 10.96.0.0/12 drop")
        .contains("ip daddr 10.244.0.0/16 drop")
        .contains("ip saddr 10.200.0.0/24 ip daddr != 10.200.0.0/24 masquerade");
    // The guest's own subnet is judged by the peer rules, not by a denied network around it.
    assertThat(text.indexOf("ip daddr 10.200.0.0/24 accept"))
        .isLessThan(text.indexOf("ip daddr 169.254.0.0/16 drop"));
  }

  @Test
  void aGuestReachesTheVmsOfItsOwnNamespaceOnlyWhenBothAllowIt() {
    FirewallRules.Guest a = guest("a/eth0", 2, namespace("team-a"));
    FirewallRules.Guest b = guest("b/eth0", 3, namespace("team-a"));
    FirewallRules.Guest other = guest("c/eth0", 4, namespace("team-b"));
    FirewallRules.Guest loner = guest("d/eth0", 5, new GuestPolicy("team-a", false, List.of()));
    String text = rules.render(List.of(a, b, other, loner));
    String tapA = "\"" + a.nic().tap() + "\"";
    String tapB = "\"" + b.nic().tap() + "\"";
    assertThat(text)
        .contains("iifname " + tapA + " oifname { " + tapB + " } accept")
        .contains("iifname " + tapB + " oifname { " + tapA + " } accept")
        .contains("iifname \"hth*\" oifname \"hth*\" drop")
        .contains("ip saddr 10.200.0.2 ip daddr { 10.200.0.3 } accept")
        .contains("ip saddr 10.200.0.3 ip daddr { 10.200.0.2 } accept")
        .contains("ip saddr 10.200.0.0/24 ip daddr 10.200.0.0/24 jump peers")
        .doesNotContain("oifname { \"" + other.nic().tap())
        .doesNotContain("iifname \"" + other.nic().tap() + "\" oifname")
        .doesNotContain("iifname \"" + loner.nic().tap() + "\" oifname")
        .doesNotContain("10.200.0.4 }", "10.200.0.5 }", "ip saddr 10.200.0.4 ip daddr {");
    assertThat(text).endsWith("    drop\n  }\n}\n");
  }

  @Test
  void egressOpensOnlyItsDestinationAndPortsForItsOwnVmBeforeTheDrops() {
    GuestPolicy open =
        new GuestPolicy(
            "ns",
            true,
            List.of(
                new GuestPolicy.Egress(
                    IpBlock.parse("10.96.0.10/32"),
                    List.of(
                        new GuestPolicy.Ports(GuestPolicy.Protocol.UDP, 53, 53),
                        new GuestPolicy.Ports(GuestPolicy.Protocol.TCP, 8000, 8080),
                        GuestPolicy.Ports.all(GuestPolicy.Protocol.TCP))),
                new GuestPolicy.Egress(IpBlock.parse("169.254.169.254/32"), List.of())));
    String text =
        rules.render(List.of(guest("a/eth0", 2, open), guest("b/eth0", 3, namespace("ns"))));
    assertThat(text)
        .contains("ip saddr 10.200.0.2 ip daddr 10.96.0.10/32 udp dport 53 accept")
        .contains("ip saddr 10.200.0.2 ip daddr 10.96.0.10/32 tcp dport 8000-8080 accept")
        .contains("ip saddr 10.200.0.2 ip daddr 10.96.0.10/32 meta l4proto tcp accept")
        .contains("ip saddr 10.200.0.2 ip daddr 169.254.169.254/32 accept")
        .doesNotContain("ip saddr 10.200.0.3 ip daddr 1");
    assertThat(text.indexOf("169.254.169.254/32 accept"))
        .isLessThan(text.indexOf("fib daddr type local drop"))
        .isLessThan(text.indexOf("ip daddr 169.254.0.0/16 drop"));
  }

  @Test
  void fromOutsideTheSubnetOnlyRepliesAndWhatTheVmsIngressOpensReachIt() {
    GuestPolicy open =
        new GuestPolicy(
            "ns",
            true,
            List.of(),
            List.of(
                new GuestPolicy.Ingress(
                    IpBlock.parse("10.244.0.0/16"),
                    List.of(new GuestPolicy.Ports(GuestPolicy.Protocol.TCP, 8080, 8080))),
                new GuestPolicy.Ingress(IpBlock.parse("10.213.7.0/24"), List.of())));
    String text =
        rules.render(List.of(guest("a/eth0", 2, open), guest("b/eth0", 3, namespace("ns"))));
    assertThat(text)
        .contains("ip saddr != 10.200.0.0/24 ip daddr 10.200.0.0/24 jump to_guest")
        .contains("ip daddr 10.200.0.2 ip saddr 10.244.0.0/16 tcp dport 8080 accept")
        .contains("ip daddr 10.200.0.2 ip saddr 10.213.7.0/24 accept")
        .doesNotContain("ip daddr 10.200.0.3 ip saddr");
    String toGuest = text.substring(text.indexOf("chain to_guest {"));
    // Replies first, the VM's openings next, then everything else from outside drops.
    assertThat(toGuest.indexOf("ct state established,related accept"))
        .isLessThan(toGuest.indexOf("10.244.0.0/16 tcp dport 8080 accept"));
    assertThat(toGuest.indexOf("10.213.7.0/24 accept"))
        .isLessThan(toGuest.indexOf("drop comment \"not opened by the VM's ingress\""));
  }

  @Test
  void otherNodesGuestsAreReachedUnmasqueradedOnlyWhereRouted() {
    String text =
        rules.render(
            List.of(guest("a/eth0", 2, namespace("ns"))),
            List.of(IpBlock.parse("10.213.2.0/24"), IpBlock.parse("10.213.1.0/24")));
    assertThat(text)
        .contains(
            "ip saddr 10.200.0.0/24 ip daddr { 10.213.1.0/24, 10.213.2.0/24 } accept comment"
                + " \"other nodes' guests: routed, not masqueraded\"");
    assertThat(text.indexOf("10.213.2.0/24 } accept")).isLessThan(text.indexOf("masquerade"));
    // Reaching them stays an egress decision: the denied networks still hold by default.
    assertThat(rules.render(List.of(guest("a/eth0", 2, namespace("ns")))))
        .doesNotContain("not masqueraded");
  }

  @Test
  void anotherNetworksRulesLiveInItsOwnTablesAndGuardOnlyItsOwnTaps() {
    NetworkNames run = new NetworkNames("hearth-run3", "hearth-run3", "hr3-");
    Attachment b =
        new Attachment(
            "eth0",
            "vm/eth0",
            InterfaceNames.tapName(run.tapPrefix(), "vm/eth0"),
            InterfaceNames.mac("vm/eth0"),
            Cidr.toInet(SUBNET.firstGuest()),
            SUBNET,
            Cidr.toInet(SUBNET.gateway()));
    assertThat(b.tap()).matches("hr3-[0-9a-f]{10}");
    String text =
        new FirewallRules((argv, in) -> "", run, SUBNET, IpBlock.PRIVATE_NETWORKS)
            .render(List.of(new FirewallRules.Guest(b, GuestPolicy.isolated("vm"))));
    assertThat(text)
        .contains(
            "table ip hearth-run3 {", "table bridge hearth-run3 {", "table inet hearth-run3 {")
        .doesNotContain("table ip hearth\n", "hth")
        .contains("iifname \"" + b.tap() + "\" accept")
        .contains("iifname \"hearth-run3\" jump from_guest", "iifname \"hr3-*\" jump from_guest")
        .contains("iifname \"hr3-*\" drop\n")
        .contains("ip daddr 192.168.0.0/16 drop", "ip daddr 100.64.0.0/10 drop");
  }

  @Test
  void destinationsAreStrictIpv4Networks() {
    assertThat(IpBlock.parse("0.0.0.0/0")).hasToString("0.0.0.0/0");
    assertThat(IpBlock.parse("10.96.0.10/32")).hasToString("10.96.0.10/32");
    for (String bad :
        List.of(
            "10.96.0.1/12",
            "10.96.0.10",
            "fd00::/8",
            "10.256.0.0/16",
            "010.0.0.0/8",
            "10.0.0.0/33",
            "10.0.0.0/8 accept",
            "10.0.0.0/8\n")) {
      assertThatThrownBy(() -> IpBlock.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
