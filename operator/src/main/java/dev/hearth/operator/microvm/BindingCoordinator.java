package dev.hearth.operator.microvm;

import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.operator.scheduling.Allocations;
import dev.hearth.operator.scheduling.Decision;
import dev.hearth.operator.scheduling.NodeCandidate;
import dev.hearth.operator.scheduling.Resources;
import dev.hearth.operator.scheduling.Scheduler;
import dev.hearth.operator.scheduling.SchedulerConfig;
import dev.hearth.operator.support.MicroVMs;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The one place binding decisions are made. Decisions are serialized under one lock, and each bind
 * is reserved in the ledger before the lock is released, so concurrent reconciles never place two
 * VMs into the same free room. The ledger is primed from the informer cache before the first
 * decision, so a restarted operator counts everything already bound.
 */
public final class BindingCoordinator {
  // Rate limit on rebuilding the ledger after a failed fit; real time, since it bounds CPU work.
  private static final long MIN_RESYNC_INTERVAL_NANOS = Duration.ofSeconds(1).toNanos();

  private final Scheduler scheduler;
  private final Allocations allocations = new Allocations();
  private boolean primed;
  private long lastResyncNanos = System.nanoTime() - MIN_RESYNC_INTERVAL_NANOS;

  public BindingCoordinator(SchedulerConfig config) {
    this.scheduler = new Scheduler(config);
  }

  public SchedulerConfig config() {
    return scheduler.config();
  }

  /**
   * Decides for an unbound VM and, on a bind, reserves its footprint before returning.
   *
   * @param cache every MicroVM in the informer cache (read only when the ledger needs rebuilding)
   */
  public synchronized Decision decideAndReserve(
      MicroVM vm, Collection<NodeCandidate> nodes, Supplier<Collection<MicroVM>> cache) {
    if (!primed) {
      resync(cache.get());
      primed = true;
    }
    String uid = vm.getMetadata().getUid();
    if (allocations.holds(uid)) {
      throw new IllegalStateException(
          "MicroVM " + MicroVMs.key(vm) + " already holds an allocation; check pendingBind first");
    }
    Decision d = scheduler.decide(MicroVMs.request(vm, config()), nodes, allocations::usedOn);
    if (d instanceof Decision.Unschedulable && dueForResync()) {
      // Capacity may have been freed by deletions the ledger has not seen: rebuild and retry.
      resync(cache.get());
      d = scheduler.decide(MicroVMs.request(vm, config()), nodes, allocations::usedOn);
    }
    if (d instanceof Decision.Bind bind) {
      allocations.reserve(uid, bind.node(), MicroVMs.footprint(vm, config()));
    }
    return d;
  }

  /** What the ledger knows about a bind of a VM that the cache shows unbound. */
  public enum PendingBind {
    /** No bind of this VM is pending: decide. */
    NONE,
    /** A bind was written; the cache has not caught up. Deciding again would bind it twice. */
    WRITTEN,
    /**
     * A bind write's outcome is unknown and the VM is still at the resourceVersion it was guarded
     * by, so it may yet land: write the same bind again (it either lands or answers 409).
     */
    IN_DOUBT
  }

  /**
   * Classifies a cached, unbound VM. An in-doubt bind whose VM has moved to another resourceVersion
   * (still unbound) can never land, since it was guarded by the old one: its room is given back
   * here and NONE is returned.
   */
  public synchronized PendingBind pendingBind(MicroVM vm) {
    String uid = vm.getMetadata().getUid();
    if (MicroVMs.boundNode(vm) != null || !allocations.holds(uid)) {
      return PendingBind.NONE;
    }
    String doubtAtRv = allocations.doubtAtRv(uid);
    if (doubtAtRv == null) {
      return PendingBind.WRITTEN;
    }
    if (doubtAtRv.equals(vm.getMetadata().getResourceVersion())) {
      return PendingBind.IN_DOUBT;
    }
    allocations.release(uid);
    return PendingBind.NONE;
  }

  /** The node this VM's unconfirmed bind is reserved on, or null. */
  public synchronized String reservedNode(MicroVM vm) {
    return allocations.reservedNode(vm.getMetadata().getUid());
  }

  /** The bind write of {@code attempted} succeeded: it is no longer in doubt. */
  public synchronized void bindWritten(MicroVM attempted) {
    allocations.markInDoubt(attempted.getMetadata().getUid(), null);
  }

  /**
   * The bind write of {@code attempted} failed without saying whether the server applied it
   * (timeout, lost response, 5xx). Its room stays held: the write is guarded by the resourceVersion
   * of {@code attempted} and may still land, even after a read that shows the VM unbound.
   */
  public synchronized void bindInDoubt(MicroVM attempted) {
    allocations.markInDoubt(
        attempted.getMetadata().getUid(), attempted.getMetadata().getResourceVersion());
  }

  /**
   * The bind write of {@code attempted} was refused (409/422/404), so it did not land. {@code
   * fresh} is the server's copy (null when gone or unread): it keeps the room if someone else bound
   * the VM meanwhile.
   */
  public synchronized void bindRefused(MicroVM attempted, MicroVM fresh) {
    if (fresh != null && MicroVMs.boundNode(fresh) != null) {
      observe(fresh);
    } else {
      allocations.release(attempted.getMetadata().getUid());
    }
  }

  /**
   * Settles an in-doubt bind from a fresh server read. Gone, or unbound at another resourceVersion:
   * the write can never land, so the room is given back. Bound: counted as bound. Unbound at the
   * same resourceVersion: still in doubt, the room stays held.
   */
  public synchronized void settleInDoubt(MicroVM attempted, MicroVM fresh) {
    String uid = attempted.getMetadata().getUid();
    String doubtAtRv = allocations.doubtAtRv(uid);
    if (fresh == null) {
      allocations.release(uid);
    } else if (MicroVMs.boundNode(fresh) != null) {
      observe(fresh);
    } else if (doubtAtRv != null && !doubtAtRv.equals(fresh.getMetadata().getResourceVersion())) {
      allocations.release(uid);
    }
  }

  /** Records what a cached VM holds: bound and unfinished VMs hold their footprint. */
  public synchronized void observe(MicroVM vm) {
    String uid = vm.getMetadata().getUid();
    if (MicroVMs.holdsResources(vm)) {
      allocations.confirm(uid, MicroVMs.boundNode(vm), MicroVMs.footprint(vm, config()));
    } else if (vm.finished()) {
      allocations.release(uid);
    }
  }

  /** Forgets a VM (failed bind, deleted, or moved off a lost node). */
  public synchronized void release(String uid) {
    allocations.release(uid);
  }

  /** Allocation per node, overhead included. */
  public synchronized Map<String, Resources> perNode() {
    return allocations.perNode();
  }

  public synchronized Resources usedOn(String node) {
    return allocations.usedOn(node);
  }

  private boolean dueForResync() {
    return System.nanoTime() - lastResyncNanos >= MIN_RESYNC_INTERVAL_NANOS;
  }

  private void resync(Collection<MicroVM> cached) {
    Map<String, Allocations.Bound> bound = new HashMap<>();
    Set<String> present = new HashSet<>();
    for (MicroVM vm : cached) {
      present.add(vm.getMetadata().getUid());
      if (MicroVMs.holdsResources(vm)) {
        bound.put(
            vm.getMetadata().getUid(),
            new Allocations.Bound(MicroVMs.boundNode(vm), MicroVMs.footprint(vm, config())));
      }
    }
    allocations.resync(bound, present);
    lastResyncNanos = System.nanoTime();
  }
}
