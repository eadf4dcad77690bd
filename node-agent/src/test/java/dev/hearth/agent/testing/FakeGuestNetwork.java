package dev.hearth.agent.testing;

import dev.hearth.agent.ipam.Ipam;
import dev.hearth.agent.net.Attachment;
import dev.hearth.agent.net.GuestNetwork;
import dev.hearth.agent.net.GuestPolicy;
import dev.hearth.agent.net.InterfaceNames;
import dev.hearth.agent.net.NodeNetwork;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;

/** Real IPAM and naming, with taps kept in a set instead of the kernel (no root needed). */
public final class FakeGuestNetwork implements GuestNetwork {
  public final Ipam ipam;
  public final Set<String> taps = new ConcurrentSkipListSet<>();

  /** The policy each VM (by uid) was last attached with. */
  public final Map<String, GuestPolicy> policies = new ConcurrentHashMap<>();

  public FakeGuestNetwork(Ipam ipam) {
    this.ipam = ipam;
  }

  @Override
  public synchronized List<Attachment> attach(
      String vmUid, GuestPolicy policy, List<NodeNetwork.InterfaceRequest> interfaces) {
    policies.put(vmUid, policy);
    List<Attachment> out = new ArrayList<>();
    for (var req : interfaces) {
      String owner = NodeNetwork.owner(vmUid, req.name());
      String tap = InterfaceNames.tapName(owner);
      taps.add(tap);
      out.add(
          new Attachment(
              req.name(),
              owner,
              tap,
              req.mac().orElse(InterfaceNames.mac(owner)),
              ipam.allocate(owner),
              ipam.subnet(),
              ipam.gateway()));
    }
    return out;
  }

  @Override
  public synchronized void detach(String vmUid) {
    for (String owner : ipam.allocations().keySet()) {
      if (owner.startsWith(vmUid + "/")) {
        taps.remove(InterfaceNames.tapName(owner));
        ipam.release(owner);
      }
    }
  }

  @Override
  public synchronized Set<String> reconcile(Set<String> liveOwners) {
    Set<String> keep = new TreeSet<>();
    liveOwners.forEach(o -> keep.add(InterfaceNames.tapName(o)));
    Set<String> removed = new TreeSet<>(taps);
    removed.removeAll(keep);
    taps.removeAll(removed);
    ipam.reconcile(liveOwners);
    return removed;
  }
}
