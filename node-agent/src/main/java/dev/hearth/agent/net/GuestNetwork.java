package dev.hearth.agent.net;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Guest interfaces as the agent's reconcile logic sees them; {@link NodeNetwork} is the real one.
 */
public interface GuestNetwork {
  /**
   * Wires the VM's interfaces (idempotent for a VM already wired) under the default policy, opened
   * as {@code policy} says.
   */
  List<Attachment> attach(
      String vmUid, GuestPolicy policy, List<NodeNetwork.InterfaceRequest> interfaces);

  /** {@link #attach(String, GuestPolicy, List)} with the default policy alone, and no peers. */
  default List<Attachment> attach(String vmUid, List<NodeNetwork.InterfaceRequest> interfaces) {
    return attach(vmUid, GuestPolicy.isolated(vmUid), interfaces);
  }

  /** Frees everything of the VM: taps, rules, addresses. */
  void detach(String vmUid);

  /** Keeps only {@code liveOwners} ({@code <uid>/<iface>}); returns what it removed. */
  Set<String> reconcile(Set<String> liveOwners);

  /**
   * The agent is stopping with its VMs stopped: removes from the host what the network made there
   * (taps, bridge, firewall tables), since the next start makes it again. Address allocations stay,
   * so each VM gets its address back. A network that made nothing on the host has nothing to do.
   */
  default void tearDown() {}

  /**
   * The other nodes' guest subnets and the node addresses they are reached through. A network that
   * routes nothing (one that only allocates addresses) ignores them.
   */
  default void peers(Map<IpBlock, InetAddress> peers) {}
}
