package dev.hearth.agent.net;

import dev.hearth.agent.ipam.Cidr;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Hearth's nftables rules, kept in tables of its own ({@code ip}, {@code bridge} and {@code inet}
 * tables named {@code hearth} for the node agent; a {@code hearth run} has its own, see {@link
 * NetworkNames}) and always rewritten whole from the live guests in one atomic {@code nft -f}
 * transaction. A rule therefore exists exactly while its VM does; after a crash the next apply
 * drops any leftover. Guests are hostile, so the default is to reach the outside and nothing else:
 *
 * <ul>
 *   <li>{@code ip}: masquerade guest traffic that leaves the subnet (egress NAT).
 *   <li>{@code bridge}, chain {@code guard}: anti-spoofing. A tap sends only from its own MAC and
 *       IPv4 address, only IPv4 and ARP (no IPv6, no VLAN tags), ARP only for its own address; a
 *       tap of this network with no live VM sends nothing.
 *   <li>{@code bridge}, chain {@code peers}: one tap reaches another only when both VMs allow their
 *       group (the namespace) and share it ({@link GuestPolicy}).
 *   <li>{@code inet}, chain {@code guard} (prerouting, before kube-proxy's DNAT): from the bridge,
 *       no IPv6; nothing to the node's own addresses (an ICMP echo to the gateway aside), to
 *       broadcast or multicast, to link-local addresses (cloud metadata) or to the {@code denied}
 *       networks (the cluster's), unless the VM's egress opens them; replies to connections the
 *       node or an opened destination made pass.
 *   <li>{@code inet}, chain {@code forward}: guest to guest through the gateway is held to the same
 *       peers as on the bridge (also on nodes whose br_netfilter hands bridged frames to IP hooks).
 *   <li>{@code inet}, chain {@code to_guest}: what comes from outside the guest subnet (pods, other
 *       nodes, other nodes' VMs) reaches a guest only as a reply or where the VM's ingress opens
 *       it. The node's own connections (readiness probes) leave through output, not forward.
 *   <li>{@code ip}: traffic to other nodes' guest subnets ({@link #apply(Collection, List)}) is
 *       routed as it is, not masqueraded, so that the peer sees the guest's own address.
 * </ul>
 */
public final class FirewallRules {
  public static final String TABLE = "hearth";

  /** One live guest interface and its VM's policy. */
  public record Guest(Attachment nic, GuestPolicy policy) {}

  private final CommandRunner commands;
  private final NetworkNames names;
  private final Cidr subnet;
  private final List<IpBlock> denied;

  /** The node agent's rules for {@code bridge}: {@link NetworkNames#agent}. */
  public FirewallRules(CommandRunner commands, String bridge, Cidr subnet) {
    this(commands, NetworkNames.agent(bridge), subnet, IpBlock.PRIVATE_NETWORKS);
  }

  /**
   * @param denied networks no guest reaches unless its egress opens them (the cluster's pod,
   *     Service and node networks); link-local and the node's own addresses always are
   */
  public FirewallRules(
      CommandRunner commands, NetworkNames names, Cidr subnet, List<IpBlock> denied) {
    this.commands = commands;
    this.names = names;
    this.subnet = subnet;
    this.denied = List.copyOf(denied);
  }

  public void apply(Collection<Guest> live) {
    apply(live, List.of());
  }

  /** As {@link #apply(Collection)}, with {@code remote} the other nodes' guest subnets. */
  public void apply(Collection<Guest> live, List<IpBlock> remote) {
    commands.run(List.of("nft", "-f", "-"), render(live, remote));
  }

  /** Deletes the three tables; a no-op when they do not exist. */
  public void remove() {
    StringBuilder s = new StringBuilder();
    for (String family : List.of("ip", "bridge", "inet")) {
      s.append("table ").append(family).append(' ').append(names.table()).append('\n');
      s.append("delete table ").append(family).append(' ').append(names.table()).append('\n');
    }
    commands.run(List.of("nft", "-f", "-"), s.toString());
  }

  String render(Collection<Guest> live) {
    return render(live, List.of());
  }

  String render(Collection<Guest> live, List<IpBlock> remote) {
    List<Guest> sorted =
        live.stream().sorted(Comparator.comparing((Guest g) -> g.nic().tap())).toList();
    StringBuilder s = new StringBuilder();
    renderNat(s, remote);
    renderBridge(s, sorted);
    renderInet(s, sorted);
    return s.toString();
  }

  private void renderNat(StringBuilder s, List<IpBlock> remote) {
    open(s, "ip");
    s.append("  chain postrouting {\n");
    s.append("    type nat hook postrouting priority srcnat; policy accept;\n");
    if (!remote.isEmpty()) {
      s.append("    ip saddr ").append(subnet).append(" ip daddr { ");
      s.append(remote.stream().map(IpBlock::toString).sorted().collect(Collectors.joining(", ")));
      s.append(" } accept comment \"other nodes' guests: routed, not masqueraded\"\n");
    }
    s.append("    ip saddr ").append(subnet).append(" ip daddr != ").append(subnet);
    s.append(" masquerade comment \"hearth egress from ").append(names.bridge()).append("\"\n");
    s.append("  }\n}\n");
  }

  private void renderBridge(StringBuilder s, List<Guest> guests) {
    String allTaps = "\"" + names.tapPrefix() + "*\"";
    open(s, "bridge");
    s.append("  chain guard {\n");
    s.append("    type filter hook prerouting priority -200; policy accept;\n");
    for (Guest g : guests) {
      String tap = "    iifname " + quote(g.nic().tap());
      String mac = g.nic().mac();
      String ip = g.nic().ip().getHostAddress();
      s.append(tap).append(" ether saddr != ").append(mac).append(" drop\n");
      // Only IPv4 and ARP: IPv6 (whose sources nothing here checks), VLAN tags and the rest drop.
      s.append(tap).append(" ether type != ip ether type != arp drop\n");
      s.append(tap).append(" arp saddr ether != ").append(mac).append(" drop\n");
      s.append(tap).append(" arp saddr ip != ").append(ip).append(" drop\n");
      s.append(tap).append(" ip saddr != ").append(ip).append(" drop\n");
      s.append(tap).append(" accept\n");
    }
    // Only this network's taps: another's (the agent's, another hearth run's) have their own.
    s.append("    iifname ").append(allTaps).append(" drop\n");
    s.append("  }\n");
    s.append("  chain peers {\n");
    s.append("    type filter hook forward priority -200; policy accept;\n");
    for (Guest g : guests) {
      List<Guest> peers = peers(g, guests);
      if (!peers.isEmpty()) {
        s.append("    iifname ").append(quote(g.nic().tap())).append(" oifname { ");
        s.append(peers.stream().map(p -> quote(p.nic().tap())).collect(Collectors.joining(", ")));
        s.append(" } accept\n");
      }
    }
    s.append("    iifname ").append(allTaps).append(" oifname ").append(allTaps).append(" drop\n");
    s.append("  }\n}\n");
  }

  private void renderInet(StringBuilder s, List<Guest> guests) {
    open(s, "inet");
    s.append("  chain guard {\n");
    // Before conntrack's DNAT (-100): a Service address is judged as the guest wrote it.
    s.append("    type filter hook prerouting priority -150; policy accept;\n");
    s.append("    iifname ").append(quote(names.bridge())).append(" jump from_guest\n");
    s.append("    iifname \"").append(names.tapPrefix()).append("*\" jump from_guest\n");
    s.append("  }\n");
    s.append("  chain from_guest {\n");
    s.append("    meta nfproto ipv6 drop\n");
    s.append("    ct state established,related accept\n");
    for (Guest g : guests) {
      String from = "    ip saddr " + g.nic().ip().getHostAddress() + " ip daddr ";
      for (GuestPolicy.Egress e : g.policy().egress()) {
        if (e.ports().isEmpty()) {
          s.append(from).append(e.to()).append(" accept\n");
        }
        for (GuestPolicy.Ports p : e.ports()) {
          s.append(from).append(e.to()).append(' ');
          ports(s, p);
          s.append(" accept\n");
        }
      }
    }
    s.append("    ip daddr ").append(Cidr.format(subnet.gateway()));
    s.append(" icmp type echo-request accept\n");
    s.append("    fib daddr type local drop comment \"the node's own addresses\"\n");
    s.append("    fib daddr type broadcast drop\n");
    s.append("    fib daddr type multicast drop\n");
    s.append("    ip daddr ").append(subnet).append(" accept comment \"peers: chain forward\"\n");
    s.append("    ip daddr ").append(IpBlock.LINK_LOCAL).append(" drop comment \"metadata\"\n");
    for (IpBlock d : denied) {
      s.append("    ip daddr ").append(d).append(" drop\n");
    }
    s.append("  }\n");
    s.append("  chain forward {\n");
    s.append("    type filter hook forward priority -150; policy accept;\n");
    s.append("    ip saddr ").append(subnet).append(" ip daddr ").append(subnet);
    s.append(" jump peers\n");
    s.append("    ip saddr != ").append(subnet).append(" ip daddr ").append(subnet);
    s.append(" jump to_guest\n");
    s.append("  }\n");
    s.append("  chain to_guest {\n");
    s.append("    ct state established,related accept\n");
    for (Guest g : guests) {
      String to = "    ip daddr " + g.nic().ip().getHostAddress() + " ip saddr ";
      for (GuestPolicy.Ingress in : g.policy().ingress()) {
        if (in.ports().isEmpty()) {
          s.append(to).append(in.from()).append(" accept\n");
        }
        for (GuestPolicy.Ports p : in.ports()) {
          s.append(to).append(in.from()).append(' ');
          ports(s, p);
          s.append(" accept\n");
        }
      }
    }
    s.append("    drop comment \"not opened by the VM's ingress\"\n");
    s.append("  }\n");
    s.append("  chain peers {\n");
    for (Guest g : guests) {
      List<Guest> peers = peers(g, guests);
      if (!peers.isEmpty()) {
        s.append("    ip saddr ").append(g.nic().ip().getHostAddress()).append(" ip daddr { ");
        s.append(
            peers.stream()
                .map(p -> p.nic().ip().getHostAddress())
                .collect(Collectors.joining(", ")));
        s.append(" } accept\n");
      }
    }
    s.append("    drop\n");
    s.append("  }\n}\n");
  }

  private static void ports(StringBuilder s, GuestPolicy.Ports p) {
    if (p.every()) {
      s.append("meta l4proto ").append(p.protocol().nft());
    } else {
      s.append(p.protocol().nft()).append(" dport ").append(p.first());
      if (p.last() != p.first()) {
        s.append('-').append(p.last());
      }
    }
  }

  /** The other interfaces {@code g} may reach on the bridge: both sides allow a shared group. */
  private static List<Guest> peers(Guest g, List<Guest> all) {
    if (!g.policy().allowGroup()) {
      return List.of();
    }
    return all.stream()
        .filter(p -> p != g)
        .filter(p -> p.policy().allowGroup() && p.policy().group().equals(g.policy().group()))
        .toList();
  }

  /** Declaring then deleting makes the script idempotent, whether or not the table exists. */
  private void open(StringBuilder s, String family) {
    String t = family + " " + names.table();
    s.append("table ").append(t).append("\ndelete table ").append(t).append('\n');
    s.append("table ").append(t).append(" {\n");
  }

  private static String quote(String name) {
    if (!name.matches("[A-Za-z0-9_.-]{1,15}")) {
      throw new IllegalArgumentException("interface name '" + name + "' is not a plain name");
    }
    return "\"" + name + "\"";
  }
}
