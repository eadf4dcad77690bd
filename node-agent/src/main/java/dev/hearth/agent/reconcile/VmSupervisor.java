package dev.hearth.agent.reconcile;

import dev.hearth.agent.lifecycle.RestartBackoff;
import dev.hearth.agent.metrics.AgentMetrics;
import dev.hearth.agent.net.Attachment;
import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.agent.runtime.VmExit;
import dev.hearth.agent.runtime.VmStartException;
import dev.hearth.agent.spec.SpecMapper;
import dev.hearth.agent.spec.SpecRejectedException;
import dev.hearth.agent.spec.VmPlan;
import dev.hearth.api.client.EventRecorder;
import dev.hearth.api.v1alpha1.Conditions;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMPhase;
import dev.hearth.api.v1alpha1.MicroVMStatus;
import dev.hearth.api.v1alpha1.NetworkInterfaceStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives one MicroVM on this node: start, live updates, restarts per policy, delete. Every method
 * runs on the VM's own serial executor, so it needs no locks; callbacks from the runtime are
 * re-submitted there. Status is patched after each step.
 */
final class VmSupervisor {
  private static final Logger LOG = LoggerFactory.getLogger(VmSupervisor.class);

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
  private RestartBackoff backoff;
  private VmPlan plan;
  private long generation = -1;
  private RunningVm running;
  private long runId;
  private boolean waitingToRestart;
  private boolean terminal;
  private boolean gone;
  private MicroVM lastSeen;

  VmSupervisor(
      AgentContext ctx, StatusPatcher status, EventRecorder events, Loop loop, MicroVM vm) {
    this.ctx = ctx;
    this.status = status;
    this.events = events;
    this.loop = loop;
    this.namespace = vm.getMetadata().getNamespace();
    this.name = vm.getMetadata().getName();
    this.uid = vm.getMetadata().getUid();
    this.lastSeen = vm;
    this.meters = ctx.metrics().vm(namespace, name);
    this.mapper = new SpecMapper(ctx.runtime().capabilities());
    this.preparer = new LaunchPreparer(ctx);
    int restarts =
        vm.getStatus() == null || vm.getStatus().getRestartCount() == null
            ? 0
            : vm.getStatus().getRestartCount();
    this.backoff =
        new RestartBackoff(
            vm.getSpec().restartPolicyOrDefault(), ctx.backoff(), ctx.clock(), restarts);
    MicroVMStatus s = vm.getStatus();
    long gen = generationOf(vm);
    if (s != null
        && (s.getPhase() == MicroVMPhase.Succeeded || s.getPhase() == MicroVMPhase.Failed)
        && s.getObservedGeneration() != null
        && s.getObservedGeneration() == gen) {
      // Finished before the agent restarted: stays finished until its spec changes.
      terminal = true;
      generation = gen;
    }
  }

  String uid() {
    return uid;
  }

  boolean isRunning() {
    return running != null;
  }

  /** Brings the VM in line with {@code vm}, the latest version from the informer cache. */
  void sync(MicroVM vm) {
    if (gone) {
      return;
    }
    lastSeen = vm;
    if (vm.getMetadata().getDeletionTimestamp() != null) {
      delete(true);
      return;
    }
    long gen = generationOf(vm);
    if (gen == generation && (running != null || waitingToRestart || terminal)) {
      return;
    }
    backoff =
        running == null && !waitingToRestart
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
      terminal = true;
      waitingToRestart = false;
      fail(vm, e.reason(), e.getMessage(), false);
      return;
    }
    if (running != null && !next.needsRestartFrom(plan)) {
      running.updateLimits(next.limits());
      plan = next;
      generation = gen;
      patch(s -> s.setObservedGeneration(gen));
      events.normal(vm, "LimitsUpdated", "rate limits applied to the running VM");
      return;
    }
    if (running != null) {
      events.normal(vm, "SpecChanged", "restarting the VM to apply a spec change");
      patch(
          s ->
              s.putCondition(
                  condition(
                      HearthApi.Conditions.RESTARTING,
                      "True",
                      "SpecChanged",
                      "restarting to apply generation " + gen)));
      stopRunning("spec changed");
    }
    waitingToRestart = false;
    terminal = false;
    generation = gen;
    start(vm, next);
  }

  private void start(MicroVM vm, VmPlan next) {
    plan = next;
    long gen = generation;
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
          s.putCondition(condition(HearthApi.Conditions.READY, "False", "Starting", starting));
        });
    if (!pulls.isEmpty()) {
      events.normal(vm, "Pulling", "pulling image " + String.join(", ", pulls));
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
      events.normal(vm, "Pulled", "image " + String.join(", ", pulls) + " ready on the node");
    }
    RunningVm vmHandle;
    try {
      vmHandle = ctx.runtime().start(prepared.launch());
    } catch (VmStartException e) {
      events.warning(vm, e.reason(), e.getMessage());
      setUpFailed(vm, e.reason(), e.getMessage());
      return;
    }
    running = vmHandle;
    long id = ++runId;
    backoff.started();
    String started = ctx.clock().instant().toString();
    List<NetworkInterfaceStatus> nics =
        prepared.attachments().stream().map(VmSupervisor::nicStatus).toList();
    setPhase(MicroVMPhase.Running);
    patch(
        s -> {
          s.setPhase(MicroVMPhase.Running);
          s.setStartTime(started);
          s.setNetwork(nics);
          s.setBootTimeMillis(null);
          s.setRestartCount(backoff.restartCount());
          s.putCondition(
              condition(HearthApi.Conditions.READY, "True", "Running", "the guest runs"));
          if (s.condition(HearthApi.Conditions.RESTARTING).isPresent()) {
            s.putCondition(condition(HearthApi.Conditions.RESTARTING, "False", "Started", ""));
          }
        });
    events.normal(vm, "Started", "started the VM on node " + ctx.nodeName());
    vmHandle.booted().thenAccept(d -> loop.submit(() -> booted(id, d)));
    vmHandle.exit().thenAccept(e -> loop.submit(() -> exited(id, e)));
  }

  private void booted(long id, Duration d) {
    if (id != runId) {
      return; // a run we replaced; a run that ended by itself still reports its boot time
    }
    ctx.metrics().bootTime(d);
    events.normal(lastSeen, "Booted", "the guest booted in " + d.toMillis() + " ms");
    patch(s -> s.setBootTimeMillis(d.toMillis()));
  }

  private void exited(long id, VmExit exit) {
    if (id != runId || running == null) {
      return; // a VM we stopped ourselves
    }
    running = null;
    MicroVM vm = lastSeen;
    String what =
        "guest exited: "
            + exit.reason()
            + (exit.message().isEmpty() ? "" : " (" + exit.message() + ")");
    if (exit.success()) {
      events.normal(vm, "GuestExited", what);
    } else {
      events.warning(vm, "GuestFailed", what);
    }
    switch (backoff.exited(exit.success())) {
      case RestartBackoff.Decision.Restart r -> {
        waitingToRestart = true;
        setPhase(MicroVMPhase.Starting);
        patch(
            s -> {
              s.setPhase(MicroVMPhase.Starting);
              s.setExit(new dev.hearth.api.v1alpha1.ExitStatus(exit.reason(), exit.message()));
              s.putCondition(condition(HearthApi.Conditions.READY, "False", exit.reason(), what));
              s.putCondition(
                  condition(
                      HearthApi.Conditions.RESTARTING,
                      "True",
                      "BackOff",
                      what + "; restarting in " + r.delay().toMillis() + " ms"));
            });
        loop.schedule(r.delay(), () -> startAgain(true));
      }
      case RestartBackoff.Decision.Stop stop -> {
        terminal = true;
        releaseRuntimeResources();
        setPhase(stop.phase());
        patch(
            s -> {
              s.setPhase(stop.phase());
              s.setExit(new dev.hearth.api.v1alpha1.ExitStatus(exit.reason(), exit.message()));
              s.setNetwork(List.of());
              s.putCondition(condition(HearthApi.Conditions.READY, "False", exit.reason(), what));
            });
      }
    }
  }

  /** A back-off ended: start again from the latest spec (a restart counts when the guest ran). */
  private void startAgain(boolean countsAsRestart) {
    if (gone || !waitingToRestart) {
      return;
    }
    MicroVM latest = lookup();
    if (latest == null) {
      return;
    }
    lastSeen = latest;
    waitingToRestart = false;
    if (countsAsRestart) {
      backoff.restarting();
    }
    generation = generationOf(latest);
    try {
      start(latest, mapper.map(latest.getSpec()));
    } catch (SpecRejectedException e) {
      terminal = true;
      fail(latest, e.reason(), e.getMessage(), false);
    }
  }

  /** Preparing or booting failed: Never gives up at once, the others retry with back-off. */
  private void setUpFailed(MicroVM vm, String reason, String message) {
    switch (backoff.exited(false)) {
      case RestartBackoff.Decision.Restart r -> {
        waitingToRestart = true;
        patch(
            s -> {
              s.putCondition(condition(HearthApi.Conditions.READY, "False", reason, message));
              s.putCondition(
                  condition(
                      HearthApi.Conditions.RESTARTING,
                      "True",
                      "BackOff",
                      "retrying in " + r.delay().toMillis() + " ms"));
            });
        loop.schedule(r.delay(), () -> startAgain(false));
      }
      case RestartBackoff.Decision.Stop stop -> {
        terminal = true;
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
          s.putCondition(condition(HearthApi.Conditions.READY, "False", reason, message));
        });
  }

  /** The VM is being deleted (or is already gone): stop it, free everything, drop the finalizer. */
  void delete(boolean removeFinalizer) {
    gone = true;
    waitingToRestart = false;
    stopRunning("deleted");
    releaseRuntimeResources();
    deleteTree(ctx.vmDir(uid));
    ctx.consoles().remove(namespace, name);
    ctx.metrics().forget(namespace, name);
    meters.close();
    if (removeFinalizer) {
      status.removeFinalizer(namespace, name);
    }
  }

  /** The agent is stopping: stop the guest, keep its address and disk for the next start. */
  void shutdown(String why) {
    if (running == null || gone) {
      return;
    }
    stopRunning(why);
    setPhase(MicroVMPhase.Scheduled);
    patch(
        s -> {
          s.setPhase(MicroVMPhase.Scheduled);
          s.setExit(new dev.hearth.api.v1alpha1.ExitStatus("AgentShutdown", why));
          s.putCondition(condition(HearthApi.Conditions.READY, "False", "AgentShutdown", why));
        });
  }

  private void stopRunning(String why) {
    if (running != null) {
      RunningVm r = running;
      running = null;
      runId++;
      r.stop(ctx.stopGrace(), why);
      events.normal(lastSeen, "Stopped", "stopped the VM: " + why);
    }
  }

  private void releaseRuntimeResources() {
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

  private io.fabric8.kubernetes.api.model.Condition condition(
      String type, String value, String reason, String message) {
    return Conditions.of(
        type, value, reason, message, generation < 0 ? null : generation, ctx.clock().instant());
  }

  private static NetworkInterfaceStatus nicStatus(Attachment a) {
    return new NetworkInterfaceStatus(a.iface(), a.ip().getHostAddress(), a.mac(), a.tap());
  }

  private static long generationOf(MicroVM vm) {
    Long g = vm.getMetadata().getGeneration();
    return g == null ? 0 : g;
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      LOG.warn("cannot delete {}: {}", dir, e.toString());
    }
  }
}
