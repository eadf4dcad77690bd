package dev.hearth.agent.net;

import dev.hearth.agent.ipam.Ipam;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The node's guest network: bridge {@code hearth0} holding the subnet's gateway address, one tap
 * per guest interface on it, addresses from {@link Ipam}, and {@link FirewallRules} with each VM's
 * {@link GuestPolicy}. Everything {@link #attach} creates, {@link #detach} removes; {@link
 * #reconcile} removes what a crash left.
 */
public final class NodeNetwork implements GuestNetwork {
  private final CommandRunner commands;
  private final TapFactory taps;
  private final Ipam ipam;
  private final NetworkNames names;
  private final String bridge;
  private final FirewallRules firewall;
  private final Map<String, Attachment> live = new HashMap<>();
  private final Map<String, GuestPolicy> policies = new HashMap<>();
  private final NodeRoutes routes;
  private Map<IpBlock, InetAddress> peers = Map.of();

  /**
   * The node agent's network on {@code bridge} ({@link NetworkNames#agent}), denying guests the
   * private networks ({@link IpBlock#PRIVATE_NETWORKS}).
   */
  public NodeNetwork(CommandRunner commands, TapFactory taps, Ipam ipam, String bridge) {
    this(commands, taps, ipam, NetworkNames.agent(bridge), IpBlock.PRIVATE_NETWORKS);
  }

  /**
   * A network with names of its own: the agent's ({@link NetworkNames#agent}), or one beside it on
   * the same host ({@code hearth run}).
   *
   * @param denied the networks guests do not reach unless their egress opens them
   */
  public NodeNetwork(
      CommandRunner commands,
      TapFactory taps,
      Ipam ipam,
      NetworkNames names,
      List<IpBlock> denied) {
    this.commands = commands;
    this.taps = taps;
    this.ipam = ipam;
    this.names = names;
    this.bridge = names.bridge();
    this.firewall = new FirewallRules(commands, names, ipam.subnet(), denied);
    this.routes = new NodeRoutes(commands);
  }

  /**
   * Routes the other nodes' guest subnets through their node addresses ({@code subnet -> node}),
   * and lets guest traffic to them pass un-masqueraded; routes to nodes no longer listed go.
   */
  @Override
  public synchronized void peers(Map<IpBlock, InetAddress> peers) {
    Map<IpBlock, InetAddress> next = new TreeMap<>(Comparator.comparing(IpBlock::toString));
    peers.forEach(
        (subnet, via) -> {
          if (!subnet.overlaps(IpBlock.parse(ipam.subnet().toString()))) {
            next.put(subnet, via); // never a route over the node's own subnet
          }
        });
    if (next.equals(this.peers)) {
      return;
    }
    this.peers = Map.copyOf(next);
    routes.sync(this.peers);
    applyRules();
  }

  /** One interface a VM asks for: its guest-side name and an optional fixed MAC. */
  public record InterfaceRequest(String name, Optional<String> mac) {}

  public static String owner(String vmUid, String iface) {
    return vmUid + "/" + iface;
  }

  /** Creates the bridge (if missing), gives it the gateway address, enables forwarding and NAT. */
  public synchronized void setUp() {
    if (!linkExists(bridge)) {
      commands.run("ip", "link", "add", "name", bridge, "type", "bridge");
    }
    commands.run(
        "ip",
        "addr",
        "replace",
        ipam.gateway().getHostAddress() + "/" + ipam.subnet().prefixLength(),
        "dev",
        bridge);
    commands.run("ip", "link", "set", "dev", bridge, "up");
    commands.sysctl("net.ipv4.ip_forward", "1");
    applyRules();
  }

  /**
   * Wires every interface of a VM: an address, a tap on the bridge, and the rules of the default
   * policy opened as {@code policy} says. Calling it again for a VM whose taps exist (after an
   * agent restart) re-uses them. On failure nothing of this call is left behind. Until the rules
   * name a new tap, the rules for all of this network's taps drop what it sends.
   */
  @Override
  public synchronized List<Attachment> attach(
      String vmUid, GuestPolicy policy, List<InterfaceRequest> interfaces) {
    List<Attachment> made = new ArrayList<>();
    policies.put(vmUid, policy);
    try {
      for (InterfaceRequest req : interfaces) {
        String owner = owner(vmUid, req.name());
        Inet4Address ip = ipam.allocate(owner);
        String tap = InterfaceNames.tapName(names.tapPrefix(), owner);
        String mac = req.mac().orElseGet(() -> InterfaceNames.mac(owner));
        Attachment a =
            new Attachment(req.name(), owner, tap, mac, ip, ipam.subnet(), ipam.gateway());
        made.add(a);
        if (!linkExists(tap)) {
          taps.create(tap);
        }
        commands.run("ip", "link", "set", "dev", tap, "master", bridge, "up");
        live.put(owner, a);
      }
      applyRules();
      return List.copyOf(made);
    } catch (RuntimeException e) {
      for (Attachment a : made) {
        removeQuietly(a.owner(), e);
      }
      policies.remove(vmUid);
      applyRules();
      throw e;
    }
  }

  /** Removes the VM's taps, rules and addresses. */
  @Override
  public synchronized void detach(String vmUid) {
    Set<String> owners = new TreeSet<>();
    for (String owner : ipam.allocations().keySet()) {
      if (owner.startsWith(vmUid + "/")) {
        owners.add(owner);
      }
    }
    for (String owner : live.keySet()) {
      if (owner.startsWith(vmUid + "/")) {
        owners.add(owner);
      }
    }
    for (String owner : owners) {
      live.remove(owner);
      taps.delete(InterfaceNames.tapName(names.tapPrefix(), owner));
      ipam.release(owner);
    }
    policies.remove(vmUid);
    applyRules();
  }

  /**
   * After a crash: keeps the interfaces of {@code liveOwners} ({@code <uid>/<iface>} keys) and
   * removes every other Hearth tap, address and rule. Returns the taps it deleted.
   */
  @Override
  public synchronized Set<String> reconcile(Set<String> liveOwners) {
    Set<String> keepTaps = new TreeSet<>();
    liveOwners.forEach(o -> keepTaps.add(InterfaceNames.tapName(names.tapPrefix(), o)));
    Set<String> deleted = new TreeSet<>();
    for (String link : hearthLinks()) {
      if (!keepTaps.contains(link)) {
        taps.delete(link);
        deleted.add(link);
      }
    }
    ipam.reconcile(liveOwners);
    live.keySet().retainAll(liveOwners);
    policies.keySet().removeIf(uid -> live.keySet().stream().noneMatch(o -> ownedBy(o, uid)));
    applyRules();
    return deleted;
  }

  /**
   * Removes every Hearth tap, then the rules and the bridge; addresses stay allocated, for the VMs
   * the next start boots again. Taps go first, so that none is ever on the bridge unguarded.
   */
  @Override
  public synchronized void tearDown() {
    for (String tap : hearthLinks()) {
      taps.delete(tap);
    }
    live.clear();
    policies.clear();
    firewall.remove();
    routes.sync(Map.of());
    peers = Map.of();
    if (linkExists(bridge)) {
      commands.run("ip", "link", "del", "dev", bridge);
    }
  }

  public synchronized Collection<Attachment> attachments() {
    return List.copyOf(live.values());
  }

  /** Network devices whose names carry this network's tap prefix. */
  public Set<String> hearthLinks() {
    Set<String> out = new TreeSet<>();
    for (String line : commands.run("ip", "-br", "link", "show").split("\n")) {
      String name = line.strip().split("\\s+")[0];
      int at = name.indexOf('@');
      if (at >= 0) {
        name = name.substring(0, at);
      }
      if (name.startsWith(names.tapPrefix())) {
        out.add(name);
      }
    }
    return out;
  }

  /** Rewrites the rules for the live interfaces, each under its VM's policy. */
  private void applyRules() {
    List<FirewallRules.Guest> guests = new ArrayList<>();
    for (Attachment a : live.values()) {
      String uid = a.owner().substring(0, a.owner().lastIndexOf('/'));
      guests.add(new FirewallRules.Guest(a, policies.getOrDefault(uid, GuestPolicy.isolated(uid))));
    }
    firewall.apply(guests, List.copyOf(peers.keySet()));
  }

  private static boolean ownedBy(String owner, String vmUid) {
    return owner.startsWith(vmUid + "/");
  }

  private boolean linkExists(String name) {
    try {
      commands.run("ip", "link", "show", "dev", name);
      return true;
    } catch (NetworkException e) {
      if (e.getMessage().contains("does not exist")) {
        return false;
      }
      throw e;
    }
  }

  private void removeQuietly(String owner, RuntimeException cause) {
    live.remove(owner);
    try {
      taps.delete(InterfaceNames.tapName(names.tapPrefix(), owner));
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
    ipam.release(owner);
  }
}
