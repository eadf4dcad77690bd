package dev.hearth.agent.reconcile;

import dev.hearth.agent.metrics.AgentMetrics;
import dev.hearth.agent.probe.ProbeException;
import dev.hearth.agent.probe.ReadinessCheck;
import dev.hearth.agent.probe.ReadinessProber;
import dev.hearth.agent.runtime.GuestExit;
import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.agent.spec.SpecMapper;
import dev.hearth.agent.spec.SpecRejectedException;
import dev.hearth.agent.spec.VmPlan;
import dev.hearth.agent.state.PrivateFiles;
import dev.hearth.api.client.EventRecorder;
import dev.hearth.api.v1alpha1.ExitStatus;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import dev.hearth.api.v1alpha1.RunState;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives one MicroVM on this node: start, live updates, restarts per policy, delete. Every method
 * runs on the VM's own serial executor, so it needs no locks; callbacks from the runtime are
 * re-submitted there. It decides; {@link RunTracker} holds where the VM is, {@link GuestLauncher}
 * starts guests, {@link RunStateSwitch} pauses, resumes and suspends them, {@link ReadinessWatch}
 * probes them, and {@link VmStatusWriter} and {@link VmEvents} report each step.
 */
final class VmSupervisor {
  private static final Logger LOG = LoggerFactory.getLogger(VmSupervisor.class);

  // How long a VM created Suspended may boot before it is suspended without a boot signal.
  static final Duration BOOT_WAIT = Duration.ofSeconds(30);

  /** How a supervisor gets back onto its VM's executor. */
  interface Loop {
    void submit(Runnable task);

    void schedule(Duration delay, Runnable task);
  }

  private final AgentContext ctx;
  private final Loop loop;
  private final String namespace;
  private final String name;
  private final String uid;
  private final AgentMetrics.PerVm meters;
  private final SpecMapper mapper;
  private final VmStatusWriter status;
  private final VmEvents events;
  private final RunTracker runs;
  private final ReadinessWatch readiness;
  private final SuspendedSnapshots snapshots;
  private final GuestLauncher launcher;
  private final RunStateSwitch switcher;
  private final Restarts restarts;
  private VmPlan plan;
  // The generation last applied (-1: none yet), beside the state it was applied in.
  private long generation = -1;
  private MicroVM lastSeen;

  VmSupervisor(
      AgentContext ctx,
      StatusPatcher patcher,
      EventRecorder recorder,
      Loop loop,
      ReadinessProber prober,
      MicroVM vm) {
    this.ctx = ctx;
    this.loop = loop;
    this.namespace = vm.getMetadata().getNamespace();
    this.name = vm.getMetadata().getName();
    this.uid = vm.getMetadata().getUid();
    this.lastSeen = vm;
    this.meters = ctx.metrics().vm(namespace, name);
    this.mapper = new SpecMapper(ctx.runtime().capabilities(), ctx.containerBoot());
    this.status =
        new VmStatusWriter(patcher, ctx.metrics(), ctx.clock(), namespace, name, () -> generation);
    this.events = new VmEvents(recorder, () -> lastSeen);
    this.runs = new RunTracker(ctx.consoles(), namespace, name);
    SupervisedVm supervised = new SupervisedVm(ctx, namespace, name, uid, runs, status, events);
    this.readiness = new ReadinessWatch(supervised, prober, loop);
    this.snapshots = new SuspendedSnapshots(ctx);
    this.launcher = new GuestLauncher(supervised, meters);
    this.switcher = new RunStateSwitch(supervised, snapshots, readiness);
    MicroVMStatus s = vm.getStatus();
    int restarted = s == null || s.getRestartCount() == null ? 0 : s.getRestartCount();
    this.restarts =
        new Restarts(
            supervised,
            loop,
            this::startAgain,
            this::releaseRuntimeResources,
            vm.getSpec().restartPolicyOrDefault(),
            restarted);
    long gen = generationOf(vm);
    if (vm.finished() && s.getObservedGeneration() != null && s.getObservedGeneration() == gen) {
      // Finished before the agent restarted: stays finished until its spec changes.
      runs.moveTo(SupervisorState.FINISHED);
      generation = gen;
    } else {
      // Suspended by an earlier agent (spec.runState, or its shutdown): restored, not booted.
      snapshots
          .suspension(uid)
          .ifPresent(t -> runs.moveTo(new SupervisorState.Suspended(t.since(), t.reason())));
    }
  }

  String uid() {
    return uid;
  }

  boolean isRunning() {
    return runs.state() instanceof SupervisorState.Running;
  }

  SupervisorState state() {
    return runs.state();
  }

  /** Brings the VM in line with {@code vm}, the latest version from the informer cache. */
  void sync(MicroVM vm) {
    if (runs.state() instanceof SupervisorState.Gone) {
      if (vm.getMetadata().getDeletionTimestamp() != null
          && vm.getMetadata().getFinalizers() != null
          && vm.getMetadata().getFinalizers().contains(HearthApi.AGENT_FINALIZER)) {
        // Torn down, but the finalizer's removal failed (an API timeout): try it again, or the VM
        // would stay Terminating until the agent restarts.
        status.removeFinalizer();
      }
      return;
    }
    lastSeen = vm;
    if (vm.getMetadata().getDeletionTimestamp() != null) {
      delete(true);
      return;
    }
    long gen = generationOf(vm);
    if (gen == generation && runs.state().settled()) {
      return;
    }
    restarts.renew(vm.getSpec().restartPolicyOrDefault());
    VmPlan next;
    ReadinessCheck check;
    try {
      next = mapper.map(vm.getSpec());
      check = ReadinessCheck.from(vm.getSpec().getReadinessProbe());
    } catch (SpecRejectedException e) {
      rejected(gen, e.reason(), e.getMessage());
      return;
    } catch (ProbeException e) {
      rejected(gen, HearthApi.Reasons.INVALID_SPEC, e.getMessage());
      return;
    }
    RunState want = vm.getSpec().runStateOrDefault();
    if (runs.state() instanceof SupervisorState.Suspended s) {
      generation = gen;
      status.patch(st -> st.setObservedGeneration(gen));
      if (want == RunState.Suspended) {
        return; // stays in its snapshot; the spec as it is now applies when it runs again
      }
      if (plan == null || !next.needsRestartFrom(plan)) {
        // A VM the last agent suspended on its way out comes back because this agent started.
        String why =
            s.resumeReason(vm.getStatus() == null ? null : vm.getStatus().getRunStateTransition());
        readiness.use(check);
        restore(next, s, want, why);
        return;
      }
      events.normal(
          HearthApi.Reasons.SPEC_CHANGED,
          "booting the VM afresh: its spec changed while it was suspended");
      snapshots.drop(uid);
      runs.moveTo(SupervisorState.IDLE);
      start(next);
      return;
    }
    RunningVm live = runs.live();
    if (live != null && !next.needsRestartFrom(plan)) {
      boolean limitsChanged = !next.limits().equals(plan.limits());
      live.updateLimits(next.limits());
      plan = next;
      generation = gen;
      status.patch(s -> s.setObservedGeneration(gen));
      if (readiness.use(check)) {
        readiness.restart(runs.latest(), true);
      }
      if (limitsChanged) {
        events.normal(HearthApi.Reasons.LIMITS_UPDATED, "rate limits applied to the running VM");
      }
      switcher.converge(want, HearthApi.Reasons.SPEC_CHANGED);
      return;
    }
    if (live != null) {
      events.normal(HearthApi.Reasons.SPEC_CHANGED, "restarting the VM to apply a spec change");
      String message = "restarting to apply generation " + gen;
      status.patch(
          s -> s.putCondition(status.restarting(true, HearthApi.Reasons.SPEC_CHANGED, message)));
      stopRunning("spec changed");
    }
    runs.moveTo(SupervisorState.IDLE);
    generation = gen;
    readiness.use(check);
    start(next);
  }

  /** The spec cannot run: whatever runs stops, and the VM fails at generation {@code gen}. */
  private void rejected(long gen, String reason, String message) {
    stopRunning("spec rejected");
    generation = gen;
    runs.moveTo(SupervisorState.FINISHED);
    fail(reason, message);
  }

  /** From Idle: prepares and boots; ends Running, or BackingOff or Finished when set-up fails. */
  private void start(VmPlan next) {
    plan = next;
    long gen = generation;
    snapshots.drop(uid); // nothing runs from it now: a boot makes it stale
    GuestLauncher.Started started;
    try {
      launcher.holdFileDescriptors(next);
      started = launcher.boot(next, gen);
    } catch (LaunchPreparer.PrepareException e) {
      restarts.setUpFailed(e.reason(), e.getMessage());
      return;
    }
    long id = runs.begin(started.vm());
    restarts.started();
    status.booted(
        ctx.clock().instant(),
        ctx.consoles().endpoint(),
        started.attachments(),
        restarts.restartCount(),
        readiness.none());
    events.normal(HearthApi.Reasons.STARTED, "started the VM on node " + ctx.nodeName());
    readiness.start(id, started.attachments());
    started.vm().booted().thenAccept(d -> loop.submit(() -> booted(id, d)));
    started.vm().exit().thenAccept(e -> loop.submit(() -> exited(id, e)));
    RunState want = lastSeen.getSpec().runStateOrDefault();
    if (want == RunState.Paused) {
      switcher.converge(want, HearthApi.Reasons.SPEC_CHANGED);
    } else if (want == RunState.Suspended) {
      // A warm VM: suspended once booted (or after BOOT_WAIT without a boot-complete signal).
      loop.schedule(BOOT_WAIT, () -> convergeRun(id));
    }
  }

  /** Restores a suspended VM from its snapshot; if that fails, boots it afresh. */
  private void restore(VmPlan next, SupervisorState.Suspended s, RunState want, String reason) {
    plan = next;
    runs.moveTo(SupervisorState.IDLE); // the snapshot stays until the restore has read it
    try {
      launcher.holdFileDescriptors(next);
    } catch (LaunchPreparer.PrepareException e) {
      restarts.setUpFailed(e.reason(), e.getMessage()); // out of descriptors: fails for good
      snapshots.drop(uid);
      return;
    }
    GuestLauncher.Started started;
    long t0 = System.nanoTime();
    try {
      started = launcher.restore(snapshots.dir(uid), next);
      snapshots.restored(uid);
    } catch (LaunchPreparer.PrepareException | IOException e) {
      events.warning(
          HearthApi.Reasons.RESTORE_FAILED,
          "booting the VM afresh: its snapshot could not be restored: " + e.getMessage());
      start(next);
      return;
    }
    long id = runs.begin(started.vm());
    status.restored(started.attachments(), readiness.none());
    switcher.changed(RunState.Suspended, RunState.Running, reason, t0, s.since());
    readiness.start(id, started.attachments());
    started.vm().exit().thenAccept(e -> loop.submit(() -> exited(id, e)));
    switcher.converge(want, reason);
  }

  private void booted(long id, Duration d) {
    if (!runs.isLatest(id)) {
      return; // a run we replaced; a run that ended by itself still reports its boot time
    }
    ctx.metrics().bootTime(d);
    events.normal(HearthApi.Reasons.BOOTED, "the guest booted in " + d.toMillis() + " ms");
    status.patch(s -> s.setBootTimeMillis(d.toMillis()));
    convergeRun(id);
  }

  /** After a boot (or BOOT_WAIT): brings run {@code id} to the latest spec's run state. */
  private void convergeRun(long id) {
    if (runs.live() != null && runs.isLatest(id) && lastSeen != null) {
      switcher.converge(lastSeen.getSpec().runStateOrDefault(), HearthApi.Reasons.SPEC_CHANGED);
    }
  }

  private void exited(long id, GuestExit exit) {
    if (runs.state() instanceof SupervisorState.Paused p && p.run() == id) {
      runs.moveTo(SupervisorState.IDLE); // a paused guest ended (the VMM failed): as any exit
    } else if (!runs.isRunning(id)) {
      return; // a VM we stopped ourselves
    }
    readiness.stop();
    // A container VM must report its exit through the guest-exit port; an end without it failed.
    restarts.guestExited(plan != null && plan.container().isPresent() ? exit.forContainer() : exit);
  }

  /** A back-off ended: start again from the latest spec (a restart counts when the guest ran). */
  private void startAgain(boolean countsAsRestart) {
    if (!(runs.state() instanceof SupervisorState.BackingOff)) {
      return; // deleted, or a newer spec started it meanwhile
    }
    MicroVM latest =
        ctx.client().resources(MicroVM.class).inNamespace(namespace).withName(name).get();
    if (latest == null) {
      return;
    }
    lastSeen = latest;
    runs.moveTo(SupervisorState.IDLE);
    if (countsAsRestart) {
      restarts.restarting();
    }
    generation = generationOf(latest);
    try {
      start(mapper.map(latest.getSpec()));
    } catch (SpecRejectedException e) {
      rejected(generation, e.reason(), e.getMessage());
    }
  }

  private void fail(String reason, String message) {
    events.warning(reason, message);
    releaseRuntimeResources();
    status.failed(reason, message);
  }

  /** The VM is being deleted (or is already gone): stop it, free everything, drop the finalizer. */
  void delete(boolean removeFinalizer) {
    stopRunning("deleted");
    runs.moveTo(SupervisorState.GONE);
    releaseRuntimeResources();
    try {
      PrivateFiles.deleteTree(ctx.vmDir(uid));
    } catch (IOException e) {
      LOG.warn("cannot delete {}: {}", ctx.vmDir(uid), e.toString());
    }
    ctx.consoles().remove(namespace, name);
    ctx.metrics().forget(namespace, name);
    meters.close();
    if (removeFinalizer) {
      status.removeFinalizer();
    }
  }

  /**
   * The agent is stopping: suspend the guest to a snapshot on the node, which the next agent
   * restores (an agent upgrade does not reboot it); if that fails, stop it. Its address and disks
   * stay for the next start either way.
   */
  void shutdown(String why) {
    if (runs.live() == null) {
      return;
    }
    if (switcher.suspend(HearthApi.Reasons.AGENT_SHUTDOWN)) {
      String message = why + "; suspended to a snapshot on node " + ctx.nodeName();
      status.leftByAgent(message, Optional.empty());
      return;
    }
    stopRunning(why);
    status.leftByAgent(why, Optional.of(new ExitStatus(HearthApi.Reasons.AGENT_SHUTDOWN, why)));
  }

  private void stopRunning(String why) {
    readiness.stop();
    RunningVm live = runs.live();
    if (live != null) {
      runs.end(SupervisorState.IDLE);
      live.stop(ctx.stopGrace(), why);
      events.normal(HearthApi.Reasons.STOPPED, "stopped the VM: " + why);
    } else if (runs.state() instanceof SupervisorState.Suspended) {
      runs.moveTo(SupervisorState.IDLE);
      snapshots.drop(uid);
    }
  }

  private void releaseRuntimeResources() {
    readiness.stop();
    ctx.fds().release(uid);
    ctx.network().detach(uid);
    ctx.images().release(uid);
  }

  private static long generationOf(MicroVM vm) {
    Long g = vm.getMetadata().getGeneration();
    return g == null ? 0 : g;
  }
}
