package dev.hearth.agent.net;

import dev.hearth.agent.ipam.Cidr;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Hearth's nftables rules, kept in tables of its own ({@code ip hearth}, {@code bridge hearth} for
 * the node agent; a {@code hearth run} has its own, see {@link NetworkNames}) and always rewritten
 * whole from the live attachments in one atomic {@code nft -f} transaction. A rule therefore exists
 * exactly while its VM does; after a crash the next apply drops any leftover.
 *
 * <ul>
 *   <li>{@code ip hearth}: masquerade guest traffic that leaves the subnet (egress NAT).
 *   <li>{@code bridge hearth}: anti-spoofing, since guests are untrusted: a tap may only send from
 *       its own MAC and IPv4 address (ARP included), and a Hearth tap with no live VM sends
 *       nothing.
 * </ul>
 */
public final class FirewallRules {
  public static final String TABLE = "hearth";

  private final CommandRunner commands;
  private final NetworkNames names;
  private final Cidr subnet;

  /** The node agent's rules for {@code bridge}: {@link NetworkNames#agent}. */
  public FirewallRules(CommandRunner commands, String bridge, Cidr subnet) {
    this(commands, NetworkNames.agent(bridge), subnet);
  }

  public FirewallRules(CommandRunner commands, NetworkNames names, Cidr subnet) {
    this.commands = commands;
    this.names = names;
    this.subnet = subnet;
  }

  public void apply(Collection<Attachment> live) {
    commands.run(List.of("nft", "-f", "-"), render(live));
  }

  /** Deletes both tables; a no-op when they do not exist. */
  public void remove() {
    String t = names.table();
    commands.run(
        List.of("nft", "-f", "-"),
        "table ip "
            + t
            + "\ndelete table ip "
            + t
            + "\ntable bridge "
            + t
            + "\ndelete table bridge "
            + t
            + "\n");
  }

  String render(Collection<Attachment> live) {
    String t = names.table();
    StringBuilder s = new StringBuilder();
    // Declaring then deleting makes the script idempotent: it works whether or not the table
    // exists.
    s.append("table ip ").append(t).append("\ndelete table ip ").append(t).append('\n');
    s.append("table ip ").append(t).append(" {\n");
    s.append("  chain postrouting {\n");
    s.append("    type nat hook postrouting priority srcnat; policy accept;\n");
    s.append("    ip saddr ").append(subnet).append(" ip daddr != ").append(subnet);
    s.append(" masquerade comment \"hearth egress from ").append(names.bridge()).append("\"\n");
    s.append("  }\n}\n");
    s.append("table bridge ").append(t).append("\ndelete table bridge ").append(t).append('\n');
    s.append("table bridge ").append(t).append(" {\n");
    s.append("  chain guard {\n");
    s.append("    type filter hook prerouting priority -200; policy accept;\n");
    List<Attachment> sorted = live.stream().sorted(Comparator.comparing(Attachment::tap)).toList();
    for (Attachment a : sorted) {
      String tap = quote(a.tap());
      String ip = a.ip().getHostAddress();
      s.append("    iifname ")
          .append(tap)
          .append(" ether saddr != ")
          .append(a.mac())
          .append(" drop\n");
      s.append("    iifname ").append(tap).append(" arp saddr ip != ").append(ip).append(" drop\n");
      s.append("    iifname ").append(tap).append(" ip saddr != ").append(ip).append(" drop\n");
      s.append("    iifname ").append(tap).append(" accept\n");
    }
    // Only this network's taps: another's (the agent's, another hearth run's) have their own.
    s.append("    iifname \"").append(names.tapPrefix()).append("*\" drop\n");
    s.append("  }\n}\n");
    return s.toString();
  }

  private static String quote(String name) {
    if (!name.matches("[A-Za-z0-9_.-]{1,15}")) {
      throw new IllegalArgumentException("interface name '" + name + "' is not a plain name");
    }
    return "\"" + name + "\"";
  }
}
