package dev.hearth.agent.testing;

import dev.hearth.agent.runtime.GuestExit;
import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.agent.runtime.VmStartException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

  /**
   * Restores from {@code dir}, which a {@link FakeVm#suspend} must have written (its file {@code
   * fake-snapshot} names the VM); the restored VM records where it came from.
   */
  @Override
  public RunningVm restore(Path dir, VmLaunch launch) throws VmStartException {
    VmStartException fail = failNextStart;
    if (fail != null) {
      failNextStart = null;
      throw fail;
    }
    Path marker = dir.resolve(FakeVm.SNAPSHOT_FILE);
    String from;
    try {
      from = Files.readString(marker);
    } catch (IOException e) {
      throw new VmStartException("RestoreFailed", "no snapshot in " + dir + ": " + e, e);
    }
    FakeVm vm = new FakeVm(launch);
    vm.restoredFrom = from;
    started.add(vm);
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
    public final CompletableFuture<GuestExit> exit = new CompletableFuture<>();
    public final CompletableFuture<Duration> booted = new CompletableFuture<>();
    public final List<VmLaunch.Limits> limitUpdates = new CopyOnWriteArrayList<>();

    /** What the console sent to the guest's serial port. */
    public final java.io.ByteArrayOutputStream consoleInput = new java.io.ByteArrayOutputStream();

    static final String SNAPSHOT_FILE = "fake-snapshot";
    public volatile String stopReason;
    public volatile boolean paused;
    // What a restored VM was restored from (the snapshot's content); null for a booted one.
    public volatile String restoredFrom;
    public volatile VmStartException failNextSuspend;

    public FakeVm(VmLaunch launch) {
      this.launch = launch;
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

    /**
     * With {@value #FAREWELL} in its extra command line, a stopped VM prints {@value
     * #FAREWELL_LINES} numbered lines as it ends, then exits: a test of what reaches the console
     * before the exit does.
     */
    @Override
    public void stop(Duration grace, String reason) {
      stopReason = reason;
      if (launch.extraCmdline().contains(FAREWELL)) {
        try {
          for (int i = 0; i < FAREWELL_LINES; i++) {
            launch.console().write(farewellLine(i).getBytes(StandardCharsets.US_ASCII));
          }
        } catch (IOException e) {
          throw new AssertionError(e);
        }
      }
      exit.complete(new GuestExit("Stopped", reason, true));
    }

    public static final String FAREWELL = "farewell=1";
    public static final int FAREWELL_LINES = 1000;

    public static String farewellLine(int i) {
      return String.format("farewell line %05d%n", i);
    }

    @Override
    public void pause() {
      paused = true;
    }

    @Override
    public void resume() {
      paused = false;
    }

    @Override
    public void suspend(Path dir) throws VmStartException {
      VmStartException fail = failNextSuspend;
      if (fail != null) {
        failNextSuspend = null;
        throw fail;
      }
      try {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(SNAPSHOT_FILE), launch.id());
      } catch (IOException e) {
        throw new VmStartException("SuspendFailed", e.toString(), e);
      }
      stopReason = "suspended";
      exit.complete(new GuestExit("Stopped", "suspended", true));
    }

    /** The guest ends by itself. */
    public void guestExits(String reason, boolean success) {
      exit.complete(new GuestExit(reason, "", success));
    }

    /** The guest ends by itself, as {@code how} says (a container's exit, say). */
    public void guestExits(GuestExit how) {
      exit.complete(how);
    }
  }
}
