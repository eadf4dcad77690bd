package dev.hearth.agent.runtime;

import dev.hearth.agent.state.PrivateFiles;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.vmm.devices.legacy.GuestExitPort;
import dev.hearth.vmm.ratelimit.BucketUpdate;
import dev.hearth.vmm.ratelimit.LimiterId;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import dev.hearth.vmm.vm.MicroVm;
import dev.hearth.vmm.vm.VmException;
import dev.hearth.vmm.vm.VmExit;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One embedded {@link MicroVm} as the agent sees it, made by {@link VmmRuntime}. */
final class VmmRunningVm implements RunningVm {
  private static final Logger LOG = LoggerFactory.getLogger(VmmRunningVm.class);

  /**
   * Publishes every running VM's counters: one thread for all VMs of the JVM, not one per VM. A
   * virtual thread, so it never keeps the JVM alive.
   */
  private static final ScheduledExecutorService METERS =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofVirtual().name("hearth-vm-meters").factory());

  private final MicroVm vm;
  private final VmCountersPublisher meters;
  private final CompletableFuture<GuestExit> exit = new CompletableFuture<>();
  private final CompletableFuture<Duration> booted = new CompletableFuture<>();
  private final ScheduledFuture<?> publishing;

  /** Follows the VMM's own futures; the only thread it makes is one at the exit, to close. */
  VmmRunningVm(MicroVm vm, VmCountersPublisher meters) {
    this.vm = vm;
    this.meters = meters;
    vm.booted().thenAccept(booted::complete);
    this.publishing =
        METERS.scheduleAtFixedRate(
            this::publishCounters,
            VmmRuntime.METERS_INTERVAL.toMillis(),
            VmmRuntime.METERS_INTERVAL.toMillis(),
            TimeUnit.MILLISECONDS);
    // The future completes on a vCPU thread, which close() joins: close on a thread of its own.
    vm.exited()
        .whenCompleteAsync(
            this::ended,
            task -> Thread.ofVirtual().name("hearth-exit-" + vm.config().name()).start(task));
  }

  private void ended(VmExit e, Throwable failure) {
    publishing.cancel(false);
    if (e != null && e.registers().isPresent()) {
      // Status carries the reason; where the guest was when it crashed goes only to the node's log.
      LOG.warn("VM {} crashed: {}", vm.config().name(), e);
    }
    try {
      vm.close(); // every vCPU thread, fd and mapping is released before the agent hears of it
      // The last counts land before the agent hears of the exit and drops the VM's meters.
      meters.publish(vm.counters());
    } catch (RuntimeException x) {
      exit.complete(
          new GuestExit(HearthApi.Reasons.VMM_ERROR, String.valueOf(x.getMessage()), false));
      return;
    }
    if (failure == null && e.isClean() && vm.guestExitStatus().isPresent()) {
      exit.complete(containerExit(vm.guestExitStatus().get()));
      return;
    }
    exit.complete(
        failure == null
            ? new GuestExit(VmmRuntime.camel(e.reason()), e.message(), e.isClean())
            : new GuestExit(
                HearthApi.Reasons.VMM_ERROR, String.valueOf(failure.getMessage()), false));
  }

  /** What the guest's init reported through the guest-exit port before it ended the VM. */
  static GuestExit containerExit(GuestExitPort.Status s) {
    return switch (s.kind()) {
      case EXITED -> GuestExit.containerExited(s.code());
      case SIGNALLED -> GuestExit.containerSignalled(s.code());
      case NOT_STARTED -> GuestExit.containerNotStarted(s.code());
    };
  }

  /** Publishes the VM's counters while it runs (every {@link #VmmRuntime.METERS_INTERVAL}). */
  private void publishCounters() {
    if (!exit.isDone()) {
      meters.publish(vm.counters());
    }
  }

  @Override
  public CompletableFuture<GuestExit> exit() {
    return exit;
  }

  @Override
  public CompletableFuture<Duration> booted() {
    return booted;
  }

  @Override
  public int offerConsoleInput(byte[] bytes) {
    return exit.isDone() ? 0 : vm.serial().enqueueInput(bytes);
  }

  /**
   * Sets every limiter of the VM to {@code limits}: a device without an entry becomes unlimited.
   * The VMM replaces only buckets whose limit changes (they start full); an unchanged bucket keeps
   * its budget, so re-applying the same spec gives the guest no fresh burst.
   */
  @Override
  public void updateLimits(VmLaunch.Limits limits) {
    for (LimiterId id : vm.rateLimiters().ids()) {
      try {
        RateLimiterConfig c = VmmRuntime.limiter(VmmRuntime.limitFor(id, limits));
        vm.rateLimiters().update(id, BucketUpdate.set(c.bandwidth()), BucketUpdate.set(c.ops()));
      } catch (VmException e) {
        return; // the VM has ended and closed; nothing is left to limit
      }
    }
  }

  /**
   * The VMM has no ACPI or guest-agent shutdown request yet, so this stops the guest at once;
   * {@code grace} bounds the wait for its threads.
   */
  @Override
  public void stop(Duration grace, String reason) {
    vm.stop();
    try {
      exit.get(grace.toMillis() + 5_000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      vm.close();
    }
  }

  @Override
  public void pause() throws VmStartException {
    try {
      vm.pause();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new VmStartException(HearthApi.Reasons.SUSPEND_FAILED, "interrupted pausing", e);
    } catch (RuntimeException e) {
      throw new VmStartException(
          HearthApi.Reasons.SUSPEND_FAILED, "cannot pause: " + e.getMessage(), e);
    }
  }

  @Override
  public void resume() {
    vm.resume();
  }

  @Override
  public void suspend(Path dir) throws VmStartException {
    boolean wasPaused = vm.state() == MicroVm.State.PAUSED;
    pause();
    try {
      PrivateFiles.directories(dir);
      vm.snapshot(dir);
    } catch (IOException | RuntimeException e) {
      if (!wasPaused) {
        vm.resume();
      }
      throw new VmStartException(
          HearthApi.Reasons.SUSPEND_FAILED,
          "cannot write the snapshot into " + dir + ": " + e.getMessage(),
          e);
    }
    // The snapshot holds the guest: stopping now frees its memory, threads and fds.
    vm.stop();
    try {
      exit.get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      vm.close();
    }
  }
}
