package dev.hearth.agent.testing;

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
public final class FakeVmRuntime implements VmRuntime {
  public final List<FakeVm> started = new CopyOnWriteArrayList<>();
  public volatile VmStartException failNextStart;

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

  public FakeVm last() {
    return started.getLast();
  }

  public long running() {
    return started.stream().filter(v -> !v.exit.isDone()).count();
  }

  public static final class FakeVm implements RunningVm {
    public final VmLaunch launch;
    public final CompletableFuture<VmExit> exit = new CompletableFuture<>();
    public final CompletableFuture<Duration> booted = new CompletableFuture<>();
    public final List<VmLaunch.Limits> limitUpdates = new CopyOnWriteArrayList<>();

    /** What the console sent to the guest's serial port. */
    public final java.io.ByteArrayOutputStream consoleInput = new java.io.ByteArrayOutputStream();

    public volatile String stopReason;

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
    public int offerConsoleInput(byte[] bytes) {
      if (exit.isDone()) {
        return 0;
      }
      synchronized (consoleInput) {
        consoleInput.writeBytes(bytes);
      }
      return bytes.length;
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
    public void guestExits(String reason, boolean success) {
      exit.complete(new VmExit(reason, "", success));
    }
  }
}
