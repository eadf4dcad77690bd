package dev.hearth.operator.scheduling;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * What is allocated on each node: VMs seen bound in the informer cache plus binds this operator
 * made that the cache does not show yet. Keyed by VM uid, so a VM is never counted twice.
 *
 * <p>Not thread-safe by itself: the binding coordinator calls it under its lock.
 */
public final class Allocations {

  /** One VM's share of a node. {@code confirmed}: the cache has shown it bound. */
  private record Placement(String node, Resources footprint, boolean confirmed) {}

  private final Map<String, Placement> byUid = new HashMap<>();
  private final Map<String, Resources> byNode = new HashMap<>();

  /** Everything allocated on {@code node}. */
  public Resources usedOn(String node) {
    return byNode.getOrDefault(node, Resources.ZERO);
  }

  /** Records a bind this operator is making; the cache will confirm it later. */
  public void reserve(String uid, String node, Resources footprint) {
    put(uid, new Placement(node, footprint, false));
  }

  /** Records a VM the cache shows bound (and not finished). */
  public void confirm(String uid, String node, Resources footprint) {
    put(uid, new Placement(node, footprint, true));
  }

  /** Forgets a VM: deleted, finished, unbound by node-loss handling, or a failed bind. */
  public void release(String uid) {
    Placement old = byUid.remove(uid);
    if (old != null) {
      subtract(old);
    }
  }

  /** Whether this uid holds an allocation. */
  public boolean holds(String uid) {
    return byUid.containsKey(uid);
  }

  /**
   * Rebuilds from the cache. {@code bound} holds every VM the cache shows bound and unfinished;
   * {@code present} every uid in the cache. A reservation not yet confirmed survives while its VM
   * is still in the cache (the cache lags the bind); one whose VM is gone is dropped.
   */
  public void resync(Map<String, Bound> bound, Set<String> present) {
    Map<String, Placement> pending = new HashMap<>();
    for (var e : byUid.entrySet()) {
      if (!e.getValue().confirmed()
          && !bound.containsKey(e.getKey())
          && present.contains(e.getKey())) {
        pending.put(e.getKey(), e.getValue());
      }
    }
    byUid.clear();
    byNode.clear();
    bound.forEach((uid, b) -> put(uid, new Placement(b.node(), b.footprint(), true)));
    pending.forEach(this::put);
  }

  /** A snapshot of allocation per node. */
  public Map<String, Resources> perNode() {
    return Map.copyOf(byNode);
  }

  /** Number of VMs holding an allocation. */
  public int size() {
    return byUid.size();
  }

  /** A VM the cache shows bound. */
  public record Bound(String node, Resources footprint) {}

  private void put(String uid, Placement p) {
    Placement old = byUid.put(uid, p);
    if (old != null) {
      subtract(old);
    }
    byNode.merge(p.node(), p.footprint(), Resources::plus);
  }

  private void subtract(Placement p) {
    Resources left = byNode.get(p.node()).minus(p.footprint());
    if (left.vcpus() == 0 && left.memoryMiB() == 0) {
      byNode.remove(p.node());
    } else {
      byNode.put(p.node(), left);
    }
  }
}
