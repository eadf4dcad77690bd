package dev.hearth.agent.reconcile;

import dev.hearth.agent.console.ConsoleBuffer;
import dev.hearth.agent.lifecycle.RestartBackoff;
import dev.hearth.agent.metrics.AgentMetrics;
import dev.hearth.agent.net.Attachment;
import dev.hearth.agent.node.FdBudget;
import dev.hearth.agent.probe.ProbeException;
import dev.hearth.agent.probe.ReadinessCheck;
import dev.hearth.agent.probe.ReadinessProber;
import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.agent.runtime.VmExit;
import dev.hearth.agent.runtime.VmStartException;
import dev.hearth.agent.spec.SpecMapper;
import dev.hearth.agent.spec.SpecRejectedException;
import dev.hearth.agent.spec.VmPlan;
import dev.hearth.agent.state.PrivateFiles;
import dev.hearth.api.client.EventRecorder;
import dev.hearth.api.v1alpha1.Conditions;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import dev.hearth.api.v1alpha1.NetworkInterfaceStatus;
import dev.hearth.api.v1alpha1.RunState;
import dev.hearth.api.v1alpha1.RunStateTransition;
import io.fabric8.kubernetes.api.model.Condition;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives one MicroVM on this node: start, live updates, restarts per policy, delete. Every method
 * runs on the VM's own serial executor, so it needs no locks; callbacks from the runtime are
 * re-submitted there. Status is patched after each step.
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
  private final StatusPatcher status;
  private final EventRecorder events;
  private final Loop loop;
  private final String namespace;
  private final String name;
  private final String uid;
  private final AgentMetrics.PerVm meters;
  private final SpecMapper mapper;
  private final LaunchPreparer preparer;
  private final ReadinessProber prober;
  // The spec's readiness probe (null: none) and the probe of the current run.
  private ReadinessCheck readiness;
  private ReadinessProber.Watch probe;
  private List<Attachment> lastNics = List.of();
  private final SuspendedSnapshots snapshots;
  private RestartBackoff backoff;
  private VmPlan plan;
  // The generation last applied (-1: none yet), beside the state it was applied in.
  private long generation = -1;
  private SupervisorState state = SupervisorState.IDLE;
  // Numbers runs: a boot time counts only for the latest run, unless we stopped it.
  private long run;
  private MicroVM lastSeen;

  VmSupervisor(
      AgentContext ctx,
      StatusPatcher status,
      EventRecorder events,
      Loop loop,
      ReadinessProber prober,
      MicroVM vm) {
    this.ctx = ctx;
    this.prober = prober;
    this.status = status;
    this.events = events;
    this.loop = loop;
    this.namespace = vm.getMetadata().getNamespace();
    this.name = vm.getMetadata().getName();
    this.uid = vm.getMetadata().getUid();
    this.lastSeen = vm;
    this.meters = ctx.metrics().vm(namespace, name);
    this.mapper = new SpecMapper(ctx.runtime().capabilities(), ctx.containerBoot());
    this.preparer = new LaunchPreparer(ctx);
    this.snapshots = new SuspendedSnapshots(ctx);
    int restarts =
        vm.getStatus() == null || vm.getStatus().getRestartCount() == null
            ? 0
            : vm.getStatus().getRestartCount();
    this.backoff =
        new RestartBackoff(
            vm.getSpec().restartPolicyOrDefault(), ctx.backoff(), ctx.clock(), restarts);
    MicroVMStatus s = vm.getStatus();
    long gen = generationOf(vm);
    if (vm.finished() && s.getObservedGeneration() != null && s.getObservedGeneration() == gen) {
      // Finished before the agent restarted: stays finished until its spec changes.
      state = SupervisorState.FINISHED;
      generation = gen;
    } else {
      // Suspended by an earlier agent (spec.runState, or its shutdown): restored, not booted.
      snapshots.suspendedSince(uid).ifPresent(t -> state = new SupervisorState.Suspended(t));
    }
  }

  String uid() {
    return uid;
  }

  boolean isRunning() {
    return state instanceof SupervisorState.Running;
  }

  SupervisorState state() {
    return state;
  }

  /** The one way the state changes. */
  private void moveTo(SupervisorState next) {
    if (!state.allows(next)) {
      throw new IllegalStateException(
          namespace + "/" + name + ": no move from " + state + " to " + next);
    }
    state = next;
    // Console input goes to the guest only while a run of it is attached.
    if (next instanceof SupervisorState.Running r) {
      ctx.consoles().open(namespace, name).attachInput(r.vm()::offerConsoleInput);
    } else {
      ctx.consoles().find(namespace, name).ifPresent(ConsoleBuffer::detachInput);
    }
  }

  /** Brings the VM in line with {@code vm}, the latest version from the informer cache. */
  void sync(MicroVM vm) {
    if (state instanceof SupervisorState.Gone) {
      return;
    }
    lastSeen = vm;
    if (vm.getMetadata().getDeletionTimestamp() != null) {
      delete(true);
      return;
    }
    long gen = generationOf(vm);
    if (gen == generation && state.settled()) {
      return;
    }
    // A new restart policy takes effect once no run or back-off of the old one is under way.
    backoff =
        state instanceof SupervisorState.Idle || state instanceof SupervisorState.Finished
            ? new RestartBackoff(
                vm.getSpec().restartPolicyOrDefault(),
                ctx.backoff(),
                ctx.clock(),
                backoff.restartCount())
            : backoff;
    VmPlan next;
    try {
      next = mapper.map(vm.getSpec());
    } catch (SpecRejectedException e) {
      stopRunning("spec rejected");
      generation = gen;
      moveTo(SupervisorState.FINISHED);
      fail(vm, e.reason(), e.getMessage(), false);
      return;
    }
    ReadinessCheck check;
    try {
      check = ReadinessCheck.from(vm.getSpec().getReadinessProbe());
    } catch (ProbeException e) {
      stopRunning("spec rejected");
      generation = gen;
      moveTo(SupervisorState.FINISHED);
      fail(vm, HearthApi.Reasons.INVALID_SPEC, e.getMessage(), false);
      return;
    }
    RunState want = vm.getSpec().runStateOrDefault();
    if (state instanceof SupervisorState.Suspended s) {
      generation = gen;
      patch(st -> st.setObservedGeneration(gen));
      if (want == RunState.Suspended) {
        return; // stays in its snapshot; the spec as it is now applies when it runs again
      }
      if (plan == null || !next.needsRestartFrom(plan)) {
        // A VM the last agent suspended on its way out comes back because this agent started.
        RunStateTransition last =
            vm.getStatus() == null ? null : vm.getStatus().getRunStateTransition();
        String why =
            last != null && HearthApi.Reasons.AGENT_SHUTDOWN.equals(last.getReason())
                ? HearthApi.Reasons.AGENT_STARTED
                : HearthApi.Reasons.SPEC_CHANGED;
        readiness = check;
        restore(vm, next, s, want, why);
        return;
      }
      events.normal(
          vm,
          HearthApi.Reasons.SPEC_CHANGED,
          "booting the VM afresh: its spec changed while it was suspended");
      dropSnapshot();
      moveTo(SupervisorState.IDLE);
      start(vm, next);
      return;
    }
    RunningVm live = liveVm();
    if (live != null && !next.needsRestartFrom(plan)) {
      boolean limitsChanged = !next.limits().equals(plan.limits());
      live.updateLimits(next.limits());
      plan = next;
      generation = gen;
      patch(s -> s.setObservedGeneration(gen));
      if (!Objects.equals(check, readiness)) {
        readiness = check;
        startProbe(run, lastNics, true);
      }
      if (limitsChanged) {
        events.normal(
            vm, HearthApi.Reasons.LIMITS_UPDATED, "rate limits applied to the running VM");
      }
      converge(want, HearthApi.Reasons.SPEC_CHANGED);
      return;
    }
    if (live != null) {
      events.normal(vm, HearthApi.Reasons.SPEC_CHANGED, "restarting the VM to apply a spec change");
      patch(
          s ->
              s.putCondition(
                  restarting(
                      true,
                      HearthApi.Reasons.SPEC_CHANGED,
                      "restarting to apply generation " + gen)));
      stopRunning("spec changed");
    }
    moveTo(SupervisorState.IDLE);
    generation = gen;
    readiness = check;
    start(vm, next);
  }

  /** The guest of a Running or Paused VM; null in any other state. */
  private RunningVm liveVm() {
    return switch (state) {
      case SupervisorState.Running r -> r.vm();
      case SupervisorState.Paused p -> p.vm();
      default -> null;
    };
  }

  /** From Idle: prepares and boots; ends Running, or BackingOff or Finished when set-up fails. */
  private void start(MicroVM vm, VmPlan next) {
    plan = next;
    long gen = generation;
    dropSnapshot(); // nothing runs from it now: a boot makes it stale
    if (!holdFileDescriptors(vm, next)) {
      return;
    }
    setPhase(MicroVMPhase.Starting);
    List<String> pulls = next.ociImages();
    String starting =
        pulls.isEmpty()
            ? "fetching images, wiring the network, booting"
            : "pulling image " + String.join(", ", pulls) + ", wiring the network, booting";
    patch(
        s -> {
          s.setPhase(MicroVMPhase.Starting);
          s.setObservedGeneration(gen);
          s.putCondition(ready(false, HearthApi.Reasons.STARTING, starting));
        });
    if (!pulls.isEmpty()) {
      events.normal(vm, HearthApi.Reasons.PULLING, "pulling image " + String.join(", ", pulls));
    }
    LaunchPreparer.Prepared prepared;
    try {
      prepared =
          preparer.prepare(
              namespace,
              name,
              uid,
              next,
              ctx.consoles().open(namespace, name).asOutputStream(),
              meters);
    } catch (LaunchPreparer.PrepareException e) {
      events.warning(vm, e.reason(), e.getMessage());
      setUpFailed(vm, e.reason(), e.getMessage());
      return;
    }
    if (!pulls.isEmpty()) {
      events.normal(
          vm, HearthApi.Reasons.PULLED, "image " + String.join(", ", pulls) + " ready on the node");
    }
    RunningVm vmHandle;
    try {
      vmHandle = ctx.runtime().start(prepared.launch());
    } catch (VmStartException e) {
      events.warning(vm, e.reason(), e.getMessage());
      setUpFailed(vm, e.reason(), e.getMessage());
      return;
    }
    long id = ++run;
    moveTo(new SupervisorState.Running(vmHandle, id));
    backoff.started();
    String started = ctx.clock().instant().toString();
    List<NetworkInterfaceStatus> nics =
        prepared.attachments().stream().map(VmSupervisor::nicStatus).toList();
    setPhase(MicroVMPhase.Running);
    patch(
        s -> {
          s.setPhase(MicroVMPhase.Running);
          s.setRunState(RunState.Running);
          s.setStartTime(started);
          s.setConsole(ctx.consoles().endpoint().orElse(null));
          s.setNetwork(nics);
          s.setBootTimeMillis(null);
          s.setRestartCount(backoff.restartCount());
          if (readiness == null) {
            s.putCondition(ready(true, HearthApi.Reasons.RUNNING, "the guest runs"));
          }
          if (s.condition(HearthApi.Conditions.RESTARTING).isPresent()) {
            s.putCondition(restarting(false, HearthApi.Reasons.STARTED, ""));
          }
        });
    events.normal(vm, HearthApi.Reasons.STARTED, "started the VM on node " + ctx.nodeName());
    lastNics = prepared.attachments();
    startProbe(id, lastNics, false);
    vmHandle.booted().thenAccept(d -> loop.submit(() -> booted(id, d)));
    vmHandle.exit().thenAccept(e -> loop.submit(() -> exited(id, e)));
    RunState want = vm.getSpec().runStateOrDefault();
    if (want == RunState.Paused) {
      converge(want, HearthApi.Reasons.SPEC_CHANGED);
    } else if (want == RunState.Suspended) {
      // A warm VM: suspended once booted (or after BOOT_WAIT without a boot-complete signal).
      loop.schedule(BOOT_WAIT, () -> convergeRun(id));
    }
  }

  /**
   * (Re)starts the readiness probe of run {@code id} on its first interface, reporting the VM
   * unready until the probe passes. Without a probe Ready follows the guest: the start reports it,
   * and a probe removed from a running VM ({@code probeChanged}) reports it here.
   */
  private void startProbe(long id, List<Attachment> nics, boolean probeChanged) {
    stopProbe();
    if (readiness == null) {
      if (probeChanged && state instanceof SupervisorState.Running) {
        patch(s -> s.putCondition(ready(true, HearthApi.Reasons.RUNNING, "the guest runs")));
      }
      return;
    }
    if (nics.isEmpty()) {
      return; // the CRD requires an interface with a probe; nothing to reach without one
    }
    int port = readiness.port();
    patch(
        s ->
            s.putCondition(
                ready(
                    false,
                    HearthApi.Reasons.PROBE_PENDING,
                    "the guest runs; waiting for its readiness probe on TCP port " + port)));
    probe =
        prober.watch(
            nics.getFirst().ip(),
            readiness,
            (ready, message) -> loop.submit(() -> probed(id, ready, message)));
  }

  private void probed(long id, boolean ready, String message) {
    if (!(state instanceof SupervisorState.Running current) || current.run() != id) {
      return; // a probe of a run that has ended
    }
    patch(
        s ->
            s.putCondition(
                ready(
                    ready,
                    ready ? HearthApi.Reasons.PROBE_SUCCEEDED : HearthApi.Reasons.PROBE_FAILED,
                    "readiness probe: " + message)));
    if (!ready) {
      events.warning(lastSeen, HearthApi.Reasons.UNHEALTHY, "readiness probe failed: " + message);
    }
  }

  private void stopProbe() {
    if (probe != null) {
      probe.close();
      probe = null;
    }
  }

  private void booted(long id, Duration d) {
    if (id != run) {
      return; // a run we replaced; a run that ended by itself still reports its boot time
    }
    ctx.metrics().bootTime(d);
    events.normal(
        lastSeen, HearthApi.Reasons.BOOTED, "the guest booted in " + d.toMillis() + " ms");
    patch(s -> s.setBootTimeMillis(d.toMillis()));
    convergeRun(id);
  }

  private void exited(long id, VmExit reported) {
    VmExit exit = plan != null && plan.container().isPresent() ? reported.forContainer() : reported;
    if (state instanceof SupervisorState.Paused p && p.run() == id) {
      moveTo(SupervisorState.IDLE); // a paused guest ended (the VMM failed): handled as any exit
    } else if (!(state instanceof SupervisorState.Running current) || current.run() != id) {
      return; // a VM we stopped ourselves
    }
    stopProbe();
    MicroVM vm = lastSeen;
    String what =
        "guest exited: "
            + exit.reason()
            + (exit.message().isEmpty() ? "" : " (" + exit.message() + ")");
    if (exit.success()) {
      events.normal(vm, HearthApi.Reasons.GUEST_EXITED, what);
    } else {
      events.warning(vm, HearthApi.Reasons.GUEST_FAILED, what);
    }
    switch (backoff.exited(exit.success())) {
      case RestartBackoff.Decision.Restart r -> {
        moveTo(SupervisorState.BACKING_OFF);
        setPhase(MicroVMPhase.Starting);
        patch(
            s -> {
              s.setPhase(MicroVMPhase.Starting);
              s.setExit(exitStatus(exit));
              s.putCondition(ready(false, exit.reason(), what));
              s.putCondition(
                  restarting(
                      true,
                      HearthApi.Reasons.BACK_OFF,
                      what + "; restarting in " + r.delay().toMillis() + " ms"));
            });
        loop.schedule(r.delay(), () -> startAgain(true));
      }
      case RestartBackoff.Decision.Stop stop -> {
        moveTo(SupervisorState.FINISHED);
        releaseRuntimeResources();
        setPhase(stop.phase());
        patch(
            s -> {
              s.setPhase(stop.phase());
              s.setExit(exitStatus(exit));
              s.setNetwork(List.of());
              s.putCondition(ready(false, exit.reason(), what));
            });
      }
    }
  }

  /** The status's record of {@code exit}, a container's exit code and signal included. */
  private static dev.hearth.api.v1alpha1.ExitStatus exitStatus(VmExit exit) {
    var status = new dev.hearth.api.v1alpha1.ExitStatus(exit.reason(), exit.message());
    exit.exitCode().ifPresent(status::setExitCode);
    exit.signal().ifPresent(status::setSignal);
    return status;
  }

  /** A back-off ended: start again from the latest spec (a restart counts when the guest ran). */
  private void startAgain(boolean countsAsRestart) {
    if (!(state instanceof SupervisorState.BackingOff)) {
      return; // deleted, or a newer spec started it meanwhile
    }
    MicroVM latest = lookup();
    if (latest == null) {
      return;
    }
    lastSeen = latest;
    moveTo(SupervisorState.IDLE);
    if (countsAsRestart) {
      backoff.restarting();
    }
    generation = generationOf(latest);
    try {
      start(latest, mapper.map(latest.getSpec()));
    } catch (SpecRejectedException e) {
      moveTo(SupervisorState.FINISHED);
      fail(latest, e.reason(), e.getMessage(), false);
    }
  }

  /**
   * Holds the descriptors the VM needs (nothing of this uid runs now, so what it held before is
   * given back first: a spec change may add devices). A VM that does not fit fails once, for good:
   * retrying on a full node would only fail again and again.
   */
  private boolean holdFileDescriptors(MicroVM vm, VmPlan next) {
    ctx.fds().release(uid);
    int fds =
        FdBudget.perVm(
            next.vcpus(), next.disks().size(), next.nics().size(), next.vsockCid().isPresent());
    if (ctx.fds().tryHold(uid, fds)) {
      return true;
    }
    moveTo(SupervisorState.FINISHED);
    fail(
        vm,
        HearthApi.Reasons.OUT_OF_FILE_DESCRIPTORS,
        "node "
            + ctx.nodeName()
            + " has no file descriptors left for this VM (it needs "
            + fds
            + "; "
            + ctx.fds()
            + ", room for "
            + ctx.fds().maxVms()
            + " idle VMs in all)",
        false);
    return false;
  }

  /** After a boot (or BOOT_WAIT): brings run {@code id} to the latest spec's run state. */
  private void convergeRun(long id) {
    if (liveVm() != null && id == run && lastSeen != null) {
      converge(lastSeen.getSpec().runStateOrDefault(), HearthApi.Reasons.SPEC_CHANGED);
    }
  }

  /** Moves a Running or Paused guest to {@code want}; a Suspended one is restored by sync. */
  private void converge(RunState want, String reason) {
    switch (state) {
      case SupervisorState.Running r when want == RunState.Paused -> pause(r);
      case SupervisorState.Running r when want == RunState.Suspended -> suspend(reason);
      case SupervisorState.Paused p when want == RunState.Running -> resume(p);
      case SupervisorState.Paused p when want == RunState.Suspended -> suspend(reason);
      default -> {}
    }
  }

  private void pause(SupervisorState.Running r) {
    long t0 = System.nanoTime();
    try {
      r.vm().pause();
    } catch (VmStartException e) {
      events.warning(lastSeen, e.reason(), e.getMessage());
      return;
    }
    Instant now = ctx.clock().instant();
    moveTo(new SupervisorState.Paused(r.vm(), r.run(), now));
    transitioned(RunState.Running, RunState.Paused, HearthApi.Reasons.SPEC_CHANGED, t0, null);
    patch(s -> s.putCondition(ready(false, HearthApi.Reasons.PAUSED, "the guest is paused")));
  }

  private void resume(SupervisorState.Paused p) {
    long t0 = System.nanoTime();
    p.vm().resume();
    moveTo(new SupervisorState.Running(p.vm(), p.run()));
    transitioned(RunState.Paused, RunState.Running, HearthApi.Reasons.SPEC_CHANGED, t0, p.since());
    if (readiness == null) {
      patch(s -> s.putCondition(ready(true, HearthApi.Reasons.RESUMED, "the guest runs")));
    } else {
      startProbe(p.run(), lastNics, false);
    }
  }

  /**
   * Suspends a Running or Paused guest into its snapshot and frees it; its address and disks stay.
   * Returns false, with a Warning, when the snapshot could not be written (the guest runs on).
   */
  private boolean suspend(String reason) {
    RunningVm live = liveVm();
    RunState from = state instanceof SupervisorState.Paused ? RunState.Paused : RunState.Running;
    long t0 = System.nanoTime();
    Instant stopped = state instanceof SupervisorState.Paused p ? p.since() : ctx.clock().instant();
    try {
      live.suspend(snapshots.dir(uid));
      snapshots.recordSuspended(uid, stopped);
    } catch (VmStartException | IOException e) {
      String why = e instanceof VmStartException v ? v.getMessage() : e.toString();
      events.warning(lastSeen, HearthApi.Reasons.SUSPEND_FAILED, why);
      if (live.exit().isDone()) {
        // Snapshot written but not recorded: the guest is gone; it boots afresh.
        moveTo(SupervisorState.IDLE);
        run++;
        dropSnapshot();
      }
      return false;
    }
    run++; // the exit of the suspended guest is ours, not the guest's
    stopProbe();
    ctx.fds().release(uid); // a suspended guest holds no descriptors; its restore takes them again
    moveTo(new SupervisorState.Suspended(stopped));
    transitioned(from, RunState.Suspended, reason, t0, null);
    patch(
        s ->
            s.putCondition(
                ready(
                    false,
                    HearthApi.Reasons.SUSPENDED,
                    "suspended to a snapshot on node " + ctx.nodeName())));
    return true;
  }

  /** Restores a suspended VM from its snapshot; if that fails, boots it afresh. */
  private void restore(
      MicroVM vm, VmPlan next, SupervisorState.Suspended s, RunState want, String reason) {
    plan = next;
    moveTo(SupervisorState.IDLE); // the snapshot stays until the restore has read it
    if (!holdFileDescriptors(vm, next)) {
      dropSnapshot();
      return;
    }
    LaunchPreparer.Prepared prepared;
    RunningVm vmHandle;
    long t0 = System.nanoTime();
    try {
      prepared =
          preparer.prepare(
              namespace,
              name,
              uid,
              next,
              ctx.consoles().open(namespace, name).asOutputStream(),
              meters);
      vmHandle = ctx.runtime().restore(snapshots.dir(uid), prepared.launch());
      snapshots.restored(uid);
    } catch (LaunchPreparer.PrepareException | VmStartException | IOException e) {
      events.warning(
          vm,
          HearthApi.Reasons.RESTORE_FAILED,
          "booting the VM afresh: its snapshot could not be restored: " + e.getMessage());
      start(vm, next);
      return;
    }
    long id = ++run;
    moveTo(new SupervisorState.Running(vmHandle, id));
    List<NetworkInterfaceStatus> nics =
        prepared.attachments().stream().map(VmSupervisor::nicStatus).toList();
    setPhase(MicroVMPhase.Running);
    patch(
        st -> {
          st.setPhase(MicroVMPhase.Running);
          st.setNetwork(nics);
          if (readiness == null) {
            st.putCondition(ready(true, HearthApi.Reasons.RESTORED, "the guest runs"));
          }
        });
    transitioned(RunState.Suspended, RunState.Running, reason, t0, s.since());
    lastNics = prepared.attachments();
    startProbe(id, lastNics, false);
    vmHandle.exit().thenAccept(e -> loop.submit(() -> exited(id, e)));
    converge(want, reason);
  }

  /**
   * Reports a run-state change: status.runState and runStateTransition, and an Event. {@code
   * stopped}, on a change to Running, is when the guest's vCPUs stopped.
   */
  private void transitioned(RunState from, RunState to, String reason, long t0, Instant stopped) {
    Instant now = ctx.clock().instant();
    long took = Duration.ofNanos(System.nanoTime() - t0).toMillis();
    Long paused = stopped == null ? null : Duration.between(stopped, now).toMillis();
    RunStateTransition t = new RunStateTransition(from, to, reason, now.toString(), took, paused);
    patch(
        s -> {
          s.setRunState(to);
          s.setRunStateTransition(t);
        });
    String verb =
        switch (to) {
          case Paused -> HearthApi.Reasons.PAUSED;
          case Suspended -> HearthApi.Reasons.SUSPENDED;
          case Running ->
              from == RunState.Paused ? HearthApi.Reasons.RESUMED : HearthApi.Reasons.RESTORED;
        };
    events.normal(
        lastSeen,
        verb,
        verb.toLowerCase(java.util.Locale.ROOT)
            + " the VM in "
            + took
            + " ms"
            + (paused == null ? "" : "; the guest was paused for " + paused + " ms")
            + (to == RunState.Suspended ? " (snapshot on node " + ctx.nodeName() + ")" : ""));
  }

  /**
   * Preparing or booting failed: Never gives up at once, the others retry with back-off. A node out
   * of file descriptors is not retried.
   */
  private void setUpFailed(MicroVM vm, String reason, String message) {
    if (HearthApi.Reasons.OUT_OF_FILE_DESCRIPTORS.equals(reason)) {
      moveTo(SupervisorState.FINISHED);
      fail(vm, reason, message, true);
      return;
    }
    switch (backoff.exited(false)) {
      case RestartBackoff.Decision.Restart r -> {
        moveTo(SupervisorState.BACKING_OFF);
        patch(
            s -> {
              s.putCondition(ready(false, reason, message));
              s.putCondition(
                  restarting(
                      true,
                      HearthApi.Reasons.BACK_OFF,
                      "retrying in " + r.delay().toMillis() + " ms"));
            });
        loop.schedule(r.delay(), () -> startAgain(false));
      }
      case RestartBackoff.Decision.Stop stop -> {
        moveTo(SupervisorState.FINISHED);
        fail(vm, reason, message, true);
      }
    }
  }

  private void fail(MicroVM vm, String reason, String message, boolean eventSent) {
    if (!eventSent) {
      events.warning(vm, reason, message);
    }
    releaseRuntimeResources();
    long gen = generation;
    setPhase(MicroVMPhase.Failed);
    patch(
        s -> {
          s.setPhase(MicroVMPhase.Failed);
          s.setObservedGeneration(gen);
          s.setNetwork(List.of());
          s.setExit(new dev.hearth.api.v1alpha1.ExitStatus(reason, message));
          s.putCondition(ready(false, reason, message));
        });
  }

  /** The VM is being deleted (or is already gone): stop it, free everything, drop the finalizer. */
  void delete(boolean removeFinalizer) {
    stopRunning("deleted");
    moveTo(SupervisorState.GONE);
    releaseRuntimeResources();
    deleteTree(ctx.vmDir(uid));
    ctx.consoles().remove(namespace, name);
    ctx.metrics().forget(namespace, name);
    meters.close();
    if (removeFinalizer) {
      status.removeFinalizer(namespace, name);
    }
  }

  /**
   * The agent is stopping: suspend the guest to a snapshot on the node, which the next agent
   * restores (an agent upgrade does not reboot it); if that fails, stop it. Its address and disks
   * stay for the next start either way.
   */
  void shutdown(String why) {
    if (liveVm() == null) {
      return;
    }
    if (suspend(HearthApi.Reasons.AGENT_SHUTDOWN)) {
      setPhase(MicroVMPhase.Scheduled);
      patch(
          s -> {
            s.setPhase(MicroVMPhase.Scheduled);
            s.putCondition(
                ready(
                    false,
                    HearthApi.Reasons.AGENT_SHUTDOWN,
                    why + "; suspended to a snapshot on node " + ctx.nodeName()));
          });
      return;
    }
    stopRunning(why);
    setPhase(MicroVMPhase.Scheduled);
    patch(
        s -> {
          s.setPhase(MicroVMPhase.Scheduled);
          s.setExit(new dev.hearth.api.v1alpha1.ExitStatus(HearthApi.Reasons.AGENT_SHUTDOWN, why));
          s.putCondition(ready(false, HearthApi.Reasons.AGENT_SHUTDOWN, why));
        });
  }

  private void stopRunning(String why) {
    stopProbe();
    RunningVm live = liveVm();
    if (live != null) {
      moveTo(SupervisorState.IDLE);
      run++;
      live.stop(ctx.stopGrace(), why);
      events.normal(lastSeen, HearthApi.Reasons.STOPPED, "stopped the VM: " + why);
    } else if (state instanceof SupervisorState.Suspended) {
      moveTo(SupervisorState.IDLE);
      dropSnapshot();
    }
  }

  private void dropSnapshot() {
    try {
      snapshots.discard(uid);
    } catch (IOException e) {
      LOG.warn("{}/{}: cannot remove its snapshot: {}", namespace, name, e.toString());
    }
  }

  private void releaseRuntimeResources() {
    stopProbe();
    ctx.fds().release(uid);
    ctx.network().detach(uid);
    ctx.images().release(uid);
  }

  private MicroVM lookup() {
    return ctx.client().resources(MicroVM.class).inNamespace(namespace).withName(name).get();
  }

  private void setPhase(MicroVMPhase phase) {
    ctx.metrics().phase(namespace, name, phase.name());
  }

  private void patch(Consumer<MicroVMStatus> change) {
    status.patch(namespace, name, change);
  }

  /** The Ready condition: whether the guest runs, and why. */
  private Condition ready(boolean runs, String reason, String message) {
    return condition(HearthApi.Conditions.READY, runs, reason, message);
  }

  /** The Restarting condition: whether a restart is under way, and why. */
  private Condition restarting(boolean under, String reason, String message) {
    return condition(HearthApi.Conditions.RESTARTING, under, reason, message);
  }

  private Condition condition(String type, boolean value, String reason, String message) {
    return Conditions.of(
        type,
        value ? HearthApi.Conditions.TRUE : HearthApi.Conditions.FALSE,
        reason,
        message,
        generation < 0 ? null : generation,
        ctx.clock().instant());
  }

  private static NetworkInterfaceStatus nicStatus(Attachment a) {
    return new NetworkInterfaceStatus(a.iface(), a.ip().getHostAddress(), a.mac(), a.tap());
  }

  private static long generationOf(MicroVM vm) {
    Long g = vm.getMetadata().getGeneration();
    return g == null ? 0 : g;
  }

  private static void deleteTree(Path dir) {
    try {
      PrivateFiles.deleteTree(dir);
    } catch (IOException e) {
      LOG.warn("cannot delete {}: {}", dir, e.toString());
    }
  }
}
