package dev.hearth.agent.reconcile;

import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.agent.runtime.VmExit;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.agent.runtime.VmStartException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/** A runtime that boots nothing: it records launches and lets the test end them. */
final class FakeVmRuntime implements VmRuntime {
  final List<FakeVm> started = new CopyOnWriteArrayList<>();
  volatile VmStartException failNextStart;

  @Override
  public Capabilities capabilities() {
    return new Capabilities(8, true, false, 8, 4);
  }

  @Override
  public RunningVm start(VmLaunch launch) throws VmStartException {
    VmStartException fail = failNextStart;
    if (fail != null) {
      failNextStart = null;
      throw fail;
    }
    FakeVm vm = new FakeVm(launch);
    started.add(vm);
    try {
      launch.console().write(("booting " + launch.id() + "\n").getBytes(StandardCharsets.UTF_8));
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
    return vm;
  }

  FakeVm last() {
    return started.getLast();
  }

  long running() {
    return started.stream().filter(v -> !v.exit.isDone()).count();
  }

  static final class FakeVm implements RunningVm {
    final VmLaunch launch;
    final CompletableFuture<VmExit> exit = new CompletableFuture<>();
    final CompletableFuture<Duration> booted = new CompletableFuture<>();
    final List<VmLaunch.Limits> limitUpdates = new CopyOnWriteArrayList<>();
    volatile String stopReason;

    FakeVm(VmLaunch launch) {
      this.launch = launch;
    }

    @Override
    public CompletableFuture<VmExit> exit() {
      return exit;
    }

    @Override
    public CompletableFuture<Duration> booted() {
      return booted;
    }

    @Override
    public void updateLimits(VmLaunch.Limits limits) {
      limitUpdates.add(limits);
    }

    @Override
    public void stop(Duration grace, String reason) {
      stopReason = reason;
      exit.complete(new VmExit("Stopped", reason, true));
    }

    /** The guest ends by itself. */
    void guestExits(String reason, boolean success) {
      exit.complete(new VmExit(reason, "", success));
    }
  }
}
