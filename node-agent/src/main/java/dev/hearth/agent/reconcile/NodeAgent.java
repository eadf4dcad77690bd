package dev.hearth.agent.reconcile;

import dev.hearth.agent.net.NodeNetwork;
import dev.hearth.agent.probe.ReadinessProber;
import dev.hearth.agent.state.PrivateFiles;
import dev.hearth.api.client.EventRecorder;
import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVM;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's control loop: an informer on the MicroVMs labelled {@code hearth.dev/node=<node>} (so
 * the agent caches only its own), one {@link VmSupervisor} per VM, recovery on start, and a clean
 * stop of every VM on shutdown.
 */
public final class NodeAgent implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeAgent.class);

  private final AgentContext ctx;
  private final StatusPatcher status;
  private final EventRecorder events;
  private final KeyedSerialExecutor executor = new KeyedSerialExecutor();
  private final ScheduledExecutorService timers =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("hearth-timers").daemon().factory());
  private final ReadinessProber prober;
  private final Map<String, VmSupervisor> supervisors = new ConcurrentHashMap<>();
  private SharedIndexInformer<MicroVM> informer;
  private volatile boolean stopping;
  private final Set<String> heldBack = new HashSet<>();
  private boolean recovered;

  public NodeAgent(AgentContext ctx) {
    this(ctx, ReadinessProber.TCP);
  }

  /** As {@link #NodeAgent(AgentContext)}, reaching guests' probed ports through {@code probes}. */
  public NodeAgent(AgentContext ctx, ReadinessProber.Connector probes) {
    this.ctx = ctx;
    this.prober = new ReadinessProber(timers, probes);
    this.status = new StatusPatcher(ctx.client());
    this.events =
        new EventRecorder(ctx.client(), ctx.clock(), StatusApply.AGENT, ctx.nodeName(), LOG::warn);
  }

  /**
   * Starts watching, waits for the first list, cleans up after a crash, and boots what should run.
   */
  public void start(Duration syncTimeout) throws Exception {
    informer =
        ctx.client()
            .resources(MicroVM.class)
            .inAnyNamespace()
            .withLabel(HearthApi.NODE_LABEL, ctx.nodeName())
            .runnableInformer(0);
    informer.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(MicroVM vm) {
            enqueue(key(vm));
          }

          @Override
          public void onUpdate(MicroVM old, MicroVM vm) {
            enqueue(key(vm));
          }

          @Override
          public void onDelete(MicroVM vm, boolean unknownFinalState) {
            enqueue(key(vm));
          }
        });
    informer.start().toCompletableFuture().get(syncTimeout.toMillis(), TimeUnit.MILLISECONDS);
    recover(informer.getStore().list());
  }

  /** Problems that make the agent not ready, for {@code /readyz} and Lease renewal. */
  public Optional<String> readinessProblem() {
    if (informer == null || !informer.hasSynced()) {
      return Optional.of("the MicroVM informer has not synced");
    }
    if (!informer.isWatching()) {
      return Optional.of("the MicroVM watch is down");
    }
    return stopping ? Optional.of("the agent is stopping") : Optional.empty();
  }

  /** The VMs this agent runs right now, by {@code namespace/name}. */
  public Set<String> runningVms() {
    Set<String> out = new HashSet<>();
    supervisors.forEach(
        (k, s) -> {
          if (s.isRunning()) {
            out.add(k);
          }
        });
    return out;
  }

  /**
   * After a crash nothing of the old process runs, but its taps, addresses, rules, disk copies and
   * cache entries remain. Keeps those of VMs that still exist here and should run (they reuse their
   * address and disk), removes the rest.
   */
  void recover(List<MicroVM> vms) {
    Set<String> owners = new HashSet<>();
    Set<String> uids = new HashSet<>();
    for (MicroVM vm : vms) {
      String uid = vm.getMetadata().getUid();
      uids.add(uid);
      if (vm.getMetadata().getDeletionTimestamp() == null
          && !vm.finished()
          && vm.getSpec() != null) {
        for (var nic : Optional.ofNullable(vm.getSpec().getNetwork()).orElse(List.of())) {
          owners.add(NodeNetwork.owner(uid, nic.getName()));
        }
      }
    }
    Set<String> removed = ctx.network().reconcile(owners);
    ctx.images().reconcile(uids);
    Path vmsDir = ctx.stateDir().resolve("vms");
    if (Files.isDirectory(vmsDir)) {
      try (Stream<Path> dirs = Files.list(vmsDir)) {
        for (Path d : dirs.toList()) {
          if (!uids.contains(d.getFileName().toString())) {
            deleteTree(d);
          }
        }
      } catch (IOException e) {
        LOG.warn("cannot list {}: {}", vmsDir, e.toString());
      }
    }
    LOG.info("recovered: {} MicroVMs bound here, removed orphan taps {}", vms.size(), removed);
    Set<String> held;
    synchronized (heldBack) {
      held = new HashSet<>(heldBack);
      heldBack.clear();
      recovered = true;
    }
    for (MicroVM vm : vms) {
      held.add(key(vm));
    }
    held.forEach(this::enqueue);
  }

  private void enqueue(String key) {
    if (stopping) {
      return;
    }
    synchronized (heldBack) {
      if (!recovered) {
        heldBack.add(key); // nothing boots before recovery has removed what a crash left
        return;
      }
    }
    executor.submit(key, () -> reconcile(key));
  }

  private void reconcile(String key) {
    MicroVM vm = informer.getStore().getByKey(key);
    VmSupervisor sup = supervisors.get(key);
    if (sup != null && (vm == null || !sup.uid().equals(vm.getMetadata().getUid()))) {
      sup.delete(false); // gone for good, or replaced by a new VM of the same name
      supervisors.remove(key);
      sup = null;
    }
    if (vm == null || stopping) {
      return;
    }
    if (sup == null) {
      if (vm.getMetadata().getDeletionTimestamp() != null && !hasFinalizer(vm)) {
        return;
      }
      sup = new VmSupervisor(ctx, status, events, loopFor(key), prober, vm);
      supervisors.put(key, sup);
    }
    try {
      sup.sync(vm);
    } catch (RuntimeException e) {
      LOG.warn("reconciling {} failed, retrying in 5 s: {}", key, e.toString());
      timers.schedule(() -> enqueue(key), 5, TimeUnit.SECONDS);
      return;
    }
    if (vm.getMetadata().getDeletionTimestamp() != null) {
      supervisors.remove(key);
    }
  }

  private VmSupervisor.Loop loopFor(String key) {
    return new VmSupervisor.Loop() {
      @Override
      public void submit(Runnable task) {
        executor.submit(key, task);
      }

      @Override
      public void schedule(Duration delay, Runnable task) {
        timers.schedule(() -> executor.submit(key, task), delay.toMillis(), TimeUnit.MILLISECONDS);
      }
    };
  }

  /** Waits for queued work; for tests. */
  void awaitIdle(Duration timeout) throws Exception {
    executor.drain(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Stops watching and stops every VM cleanly, recording why in its status. Addresses, taps and
   * disks stay for the next start; finalizers stay so nothing is deleted behind the agent's back.
   */
  public void shutdown(String why, Duration timeout) {
    stopping = true;
    if (informer != null) {
      informer.stop();
    }
    LOG.info("suspending (or else stopping) {} VMs: {}", supervisors.size(), why);
    long t0 = System.nanoTime();
    for (var e : supervisors.entrySet()) {
      VmSupervisor sup = e.getValue();
      executor.submit(e.getKey(), () -> sup.shutdown(why));
    }
    try {
      executor.drain(timeout.toMillis(), TimeUnit.MILLISECONDS);
      LOG.info("VMs suspended or stopped in {} ms", (System.nanoTime() - t0) / 1_000_000);
    } catch (Exception ex) {
      LOG.warn("not every VM stopped within {}: {}", timeout, ex.toString());
    }
  }

  @Override
  public void close() {
    if (!stopping) {
      shutdown("the node agent stopped", ctx.stopGrace().plusSeconds(5));
    }
    timers.shutdownNow();
    executor.close();
  }

  private static boolean hasFinalizer(MicroVM vm) {
    return vm.getMetadata().getFinalizers() != null
        && vm.getMetadata().getFinalizers().contains(HearthApi.AGENT_FINALIZER);
  }

  private static String key(MicroVM vm) {
    return vm.getMetadata().getNamespace() + "/" + vm.getMetadata().getName();
  }

  private static void deleteTree(Path dir) {
    try {
      PrivateFiles.deleteTree(dir);
    } catch (IOException e) {
      LOG.warn("cannot delete {}: {}", dir, e.toString());
    }
  }
}
