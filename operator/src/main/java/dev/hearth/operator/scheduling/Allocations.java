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

  /**
   * One VM's share of a node. {@code confirmed}: the cache has shown it bound. {@code doubtAtRv}:
   * the bind write's outcome is unknown (timeout, lost response); it was guarded by this
   * resourceVersion, so it can still land as long as the VM stays at that version.
   */
  private record Placement(String node, Resources footprint, boolean confirmed, String doubtAtRv) {}

  private final Map<String, Placement> byUid = new HashMap<>();
  private final Map<String, Resources> byNode = new HashMap<>();

  /** Everything allocated on {@code node}. */
  public Resources usedOn(String node) {
    return byNode.getOrDefault(node, Resources.ZERO);
  }

  /** Records a bind this operator is making; the cache will confirm it later. */
  public void reserve(String uid, String node, Resources footprint) {
    put(uid, new Placement(node, footprint, false, null));
  }

  /**
   * Marks this VM's unconfirmed reservation as a bind whose outcome is unknown: the write, guarded
   * by {@code resourceVersion}, may still land. The room stays held until that is disproven.
   */
  public void markInDoubt(String uid, String resourceVersion) {
    Placement p = byUid.get(uid);
    if (p != null && !p.confirmed()) {
      byUid.put(uid, new Placement(p.node(), p.footprint(), false, resourceVersion));
    }
  }

  /** The node of this VM's unconfirmed reservation, or null. */
  public String reservedNode(String uid) {
    Placement p = byUid.get(uid);
    return p == null || p.confirmed() ? null : p.node();
  }

  /** The resourceVersion an in-doubt bind of this VM was guarded by, or null when not in doubt. */
  public String doubtAtRv(String uid) {
    Placement p = byUid.get(uid);
    return p == null ? null : p.doubtAtRv();
  }

  /** Records a VM the cache shows bound (and not finished). */
  public void confirm(String uid, String node, Resources footprint) {
    put(uid, new Placement(node, footprint, true, null));
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
    bound.forEach((uid, b) -> put(uid, new Placement(b.node(), b.footprint(), true, null)));
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
    if (left.equals(Resources.ZERO)) {
      byNode.remove(p.node());
    } else {
      byNode.put(p.node(), left);
    }
  }
}
