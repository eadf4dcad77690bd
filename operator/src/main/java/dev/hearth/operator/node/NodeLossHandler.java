package dev.hearth.operator.node;

import dev.hearth.api.client.EventRecorder;
import dev.hearth.api.client.MetadataPatches;
import dev.hearth.api.v1alpha1.Conditions;
import dev.hearth.api.v1alpha1.ExitStatus;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import dev.hearth.api.v1alpha1.RunState;
import dev.hearth.operator.microvm.BindingCoordinator;
import dev.hearth.operator.microvm.MicroVMWriter;
import dev.hearth.operator.support.MicroVMs;
import dev.hearth.operator.support.OperatorMetrics;
import dev.hearth.operator.support.StatusPatch;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens to the VMs of a node whose agent went silent: first they turn Unknown; after the
 * grace period they move (restartPolicy Always/OnFailure) or fail (Never), and the agent finalizers
 * the dead agent cannot remove are removed. Every write is resourceVersion-guarded; a conflict
 * skips that VM until the next pass.
 */
public final class NodeLossHandler {
  private static final Logger LOG = LoggerFactory.getLogger(NodeLossHandler.class);

  private final KubernetesClient client;
  private final MicroVMWriter writer;
  private final BindingCoordinator coordinator;
  private final EventRecorder events;
  private final OperatorMetrics metrics;
  private final Clock clock;
  private final Function<String, Optional<List<MicroVM>>> cachedVmsOn;

  /**
   * @param cachedVmsOn the informer cache's VMs bound to or labelled for a node; empty while that
   *     cache does not exist yet (then the API server is asked)
   */
  public NodeLossHandler(
      KubernetesClient client,
      MicroVMWriter writer,
      BindingCoordinator coordinator,
      EventRecorder events,
      OperatorMetrics metrics,
      Clock clock,
      Function<String, Optional<List<MicroVM>>> cachedVmsOn) {
    this.client = client;
    this.writer = writer;
    this.coordinator = coordinator;
    this.events = events;
    this.metrics = metrics;
    this.clock = clock;
    this.cachedVmsOn = cachedVmsOn;
  }

  /**
   * The node's VMs, from the informer cache: no API call per pass. A copy that lags the server is
   * safe, since every write here is guarded by its resourceVersion (a stale one answers 409 and the
   * VM waits for the next pass), and a VM the cache does not show yet is handled by the next pass.
   * Copies, because the handler edits their status and cache objects are shared.
   */
  List<MicroVM> vmsOn(String node) {
    Optional<List<MicroVM>> cached = cachedVmsOn.apply(node);
    if (cached.isEmpty()) {
      return client
          .resources(MicroVM.class)
          .inAnyNamespace()
          .withLabel(HearthApi.NODE_LABEL, node)
          .list()
          .getItems();
    }
    var serialization = client.getKubernetesSerialization();
    return cached.get().stream().map(serialization::clone).toList();
  }

  /** Marks every running VM of the node Unknown. Returns how many were changed. */
  public int markUnknown(String node, String why) {
    int changed = 0;
    for (MicroVM vm : vmsOn(node)) {
      if (vm.finished() || MicroVMs.deleting(vm) || MicroVMs.phase(vm) == MicroVMPhase.Unknown) {
        continue;
      }
      MicroVMStatus s = vm.getStatus() == null ? new MicroVMStatus() : vm.getStatus();
      s.setPhase(MicroVMPhase.Unknown);
      s.putCondition(
          Conditions.of(
              HearthApi.Conditions.READY,
              HearthApi.Conditions.UNKNOWN,
              HearthApi.Reasons.NODE_LOST,
              "node " + node + " is not Ready: " + why,
              vm.getMetadata().getGeneration(),
              clock.instant()));
      if (tryUpdateStatus(vm, s)) {
        changed++;
      }
    }
    return changed;
  }

  /** Moves or fails every VM of a lost node and removes the finalizers its agent cannot. */
  public int evacuate(String node, String why) {
    int handled = 0;
    for (MicroVM vm : vmsOn(node)) {
      try {
        if (MicroVMs.deleting(vm) || vm.finished()) {
          releaseFinalizer(vm);
        } else if (vm.getSpec() != null
            && vm.getSpec().restartPolicyOrDefault().reschedulesOnNodeLoss()) {
          reschedule(vm, node, why);
        } else {
          fail(vm, node, why);
        }
        handled++;
      } catch (KubernetesClientException e) {
        // Changed under us (a stale resourceVersion) or gone: the next pass looks again.
        if (!StatusPatch.isConflict(e)) {
          throw e;
        }
        LOG.debug("{} changed while evacuating node {}; next pass", MicroVMs.key(vm), node);
      }
    }
    return handled;
  }

  private void reschedule(MicroVM vm, String node, String why) {
    // A paused or suspended guest's memory (or its snapshot) was on the lost node: it boots afresh.
    RunState was = vm.getStatus() == null ? null : vm.getStatus().getRunState();
    String lost =
        was == RunState.Suspended || was == RunState.Paused
            ? "; it was " + was + " there, and its memory is lost with the node: it boots afresh"
            : "";
    MicroVMStatus s = new MicroVMStatus();
    s.setPhase(MicroVMPhase.Pending);
    s.setRestartCount(vm.getStatus() == null ? null : vm.getStatus().getRestartCount());
    s.setExit(new ExitStatus(HearthApi.Reasons.NODE_LOST, "node " + node + " was lost: " + why));
    s.setConditions(keptConditions(vm));
    s.putCondition(
        Conditions.of(
            HearthApi.Conditions.SCHEDULED,
            HearthApi.Conditions.FALSE,
            HearthApi.Reasons.NODE_LOST,
            "node " + node + " was lost; rescheduling" + lost,
            vm.getMetadata().getGeneration(),
            clock.instant()));
    s.putCondition(
        Conditions.of(
            HearthApi.Conditions.READY,
            HearthApi.Conditions.FALSE,
            HearthApi.Reasons.NODE_LOST,
            "node " + node + " was lost",
            vm.getMetadata().getGeneration(),
            clock.instant()));
    MicroVM updated = writer.status().reset(vm, s);
    // Now, while this pass still knows the run state: the reset status no longer says it, and a
    // conflict below leaves the rest to a later pass.
    events.warning(vm, "NodeLost", "node " + node + " was lost; rescheduling the MicroVM" + lost);
    coordinator.release(vm.getMetadata().getUid());
    writer.patchMetadata(updated, MetadataPatches.unbindMetadata(updated));
    metrics.rescheduled();
  }

  private void fail(MicroVM vm, String node, String why) {
    MicroVMStatus s = vm.getStatus() == null ? new MicroVMStatus() : vm.getStatus();
    s.setPhase(MicroVMPhase.Failed);
    s.setExit(new ExitStatus(HearthApi.Reasons.NODE_LOST, "node " + node + " was lost: " + why));
    s.putCondition(
        Conditions.of(
            HearthApi.Conditions.READY,
            HearthApi.Conditions.FALSE,
            HearthApi.Reasons.NODE_LOST,
            "node " + node + " was lost and restartPolicy is Never",
            vm.getMetadata().getGeneration(),
            clock.instant()));
    MicroVM updated = updateStatus(vm, s);
    coordinator.release(vm.getMetadata().getUid());
    releaseFinalizer(updated);
    events.warning(vm, "NodeLost", "node " + node + " was lost; restartPolicy Never: Failed");
  }

  private void releaseFinalizer(MicroVM vm) {
    if (MicroVMs.hasAgentFinalizer(vm)) {
      writer.patchMetadata(vm, MetadataPatches.removeAgentFinalizer(vm));
    }
  }

  private static List<Condition> keptConditions(MicroVM vm) {
    List<Condition> kept = new ArrayList<>();
    if (vm.getStatus() != null && vm.getStatus().getConditions() != null) {
      for (Condition c : vm.getStatus().getConditions()) {
        if (!HearthApi.Conditions.RESTARTING.equals(c.getType())) {
          kept.add(c);
        }
      }
    }
    return kept;
  }

  private boolean tryUpdateStatus(MicroVM vm, MicroVMStatus status) {
    try {
      updateStatus(vm, status);
      return true;
    } catch (KubernetesClientException e) {
      if (StatusPatch.isConflict(e)) {
        return false;
      }
      throw e;
    }
  }

  private MicroVM updateStatus(MicroVM vm, MicroVMStatus status) {
    return writer.status().apply(vm, status);
  }
}
