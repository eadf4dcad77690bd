package dev.hearth.agent.vmmhost;

import dev.hearth.agent.metrics.VmMeters;
import dev.hearth.agent.runtime.GuestExit;
import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.runtime.VmStartException;
import dev.hearth.api.v1alpha1.HearthApi;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A VM that runs in a {@link VmmProcess}, as the agent sees it. Futures complete on threads of
 * their own, never on the process's reader thread, so an agent callback that asks the process
 * something cannot stall the frames its answer comes in.
 */
final class RemoteVm implements RunningVm {
  private static final Logger LOG = LoggerFactory.getLogger(RemoteVm.class);
  // Past a stop's grace: a VMM that has not stopped a VM by then is hung, and is killed.
  private static final Duration STOP_SLACK = Duration.ofSeconds(30);
  private static final Duration PAUSE_TIMEOUT = Duration.ofMinutes(1);
  // A snapshot writes the guest's memory: up to its size, at disk speed.
  private static final Duration SUSPEND_TIMEOUT = Duration.ofMinutes(10);
  private static final Duration CONSOLE_IN_TIMEOUT = Duration.ofSeconds(1);

  private final VmmProcess process;
  private final int key;
  private final VmLaunch launch;
  private final CompletableFuture<GuestExit> exit = new CompletableFuture<>();
  private final CompletableFuture<Duration> booted = new CompletableFuture<>();

  RemoteVm(VmmProcess process, int key, VmLaunch launch) {
    this.process = process;
    this.key = key;
    this.launch = launch;
  }

  /** A frame from the process about this VM ({@code body} is past the VM's key). */
  void deliver(Wire.Op op, Wire.In body) throws IOException {
    switch (op) {
      case BOOTED -> {
        Duration d = Duration.ofNanos(body.i64());
        Thread.ofVirtual().start(() -> booted.complete(d));
      }
      case CONSOLE -> {
        byte[] bytes = body.bytes();
        try {
          launch.console().write(bytes);
        } catch (IOException e) {
          LOG.debug("console of {} dropped {} bytes: {}", launch.id(), bytes.length, e.toString());
        }
      }
      case METER -> meter(body);
      case EXIT -> ended(LaunchCodec.readExit(body));
      default -> throw new VmmHostException("a " + op + " frame is not about a VM");
    }
  }

  private void meter(Wire.In b) throws IOException {
    int kind = b.i32();
    String name = LaunchCodec.bounded(b.str());
    String detail = LaunchCodec.bounded(b.str());
    int index = b.i32();
    long count = b.i64();
    VmmHost.MeterKind[] kinds = VmmHost.MeterKind.values();
    if (kind < 0 || kind >= kinds.length || count <= 0) {
      throw new VmmHostException("a meter frame of kind " + kind + ", count " + count);
    }
    VmMeters m = launch.meters();
    switch (kinds[kind]) {
      case VCPU_EXITS -> m.vcpuExits(index, count);
      case BLOCK_BYTES -> m.blockBytes(name, enumAt(VmMeters.BlockOp.values(), index), count);
      case NET_BYTES -> m.netBytes(name, enumAt(VmMeters.NetDirection.values(), index), count);
      case THROTTLED -> m.throttled(name, detail, count);
    }
  }

  private static <E> E enumAt(E[] values, int i) throws VmmHostException {
    if (i < 0 || i >= values.length) {
      throw new VmmHostException("a meter frame names value " + i + " of " + values.length);
    }
    return values[i];
  }

  /** The VM has ended (its exit frame, or its process's end). */
  void ended(GuestExit e) {
    Thread.ofVirtual().start(() -> exit.complete(e));
  }

  @Override
  public CompletableFuture<GuestExit> exit() {
    return exit;
  }

  @Override
  public CompletableFuture<Duration> booted() {
    return booted;
  }

  /** Asks the process; waits at most a second for the answer, and says 0 then. */
  @Override
  public int offerConsoleInput(byte[] bytes) {
    if (exit.isDone()) {
      return 0;
    }
    try {
      VmmProcess.Reply r =
          process.call(
              Wire.Op.CONSOLE_IN,
              key,
              b -> b.bytes(bytes, 0, bytes.length),
              CONSOLE_IN_TIMEOUT,
              HearthApi.Reasons.VMM_ERROR);
      return Math.max(0, Math.min(r.value(), bytes.length));
    } catch (VmStartException e) {
      return 0;
    }
  }

  @Override
  public void updateLimits(VmLaunch.Limits limits) {
    Wire.Out body = new Wire.Out().i32(key);
    LaunchCodec.write(body, limits);
    process.tell(Wire.Op.LIMITS, body);
  }

  @Override
  public void stop(Duration grace, String reason) {
    if (exit.isDone()) {
      return;
    }
    Duration limit = grace.plus(STOP_SLACK);
    try {
      process.call(
          Wire.Op.STOP,
          key,
          b -> b.i64(grace.toMillis()).str(reason),
          limit,
          HearthApi.Reasons.VMM_ERROR);
    } catch (VmStartException e) {
      LOG.debug("stop of {}: {}", launch.id(), e.getMessage());
    }
    if (!awaitExit(limit)) {
      process.kill("VM " + launch.id() + " did not stop within " + limit.toSeconds() + " s");
      awaitExit(STOP_SLACK);
    }
  }

  @Override
  public void pause() throws VmStartException {
    process
        .call(Wire.Op.PAUSE, key, b -> {}, PAUSE_TIMEOUT, HearthApi.Reasons.SUSPEND_FAILED)
        .orThrow();
  }

  @Override
  public void resume() {
    try {
      process.call(Wire.Op.RESUME, key, b -> {}, PAUSE_TIMEOUT, HearthApi.Reasons.VMM_ERROR);
    } catch (VmStartException e) {
      LOG.warn("cannot resume {}: {}", launch.id(), e.getMessage());
    }
  }

  @Override
  public void suspend(Path dir) throws VmStartException {
    process
        .call(
            Wire.Op.SUSPEND,
            key,
            b -> b.str(dir.toString()),
            SUSPEND_TIMEOUT,
            HearthApi.Reasons.SUSPEND_FAILED)
        .orThrow();
    awaitExit(STOP_SLACK);
  }

  private boolean awaitExit(Duration limit) {
    try {
      exit.get(limit.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return exit.isDone();
    } catch (ExecutionException | TimeoutException e) {
      return exit.isDone();
    }
  }
}
