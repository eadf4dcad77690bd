package dev.hearth.agent.vmmhost;

import dev.hearth.agent.metrics.VmMeters;
import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.agent.runtime.VmStartException;
import dev.hearth.api.v1alpha1.HearthApi;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The VMM process's side: runs the agent's requests on a {@link VmRuntime} (the embedded VMM) and
 * sends back replies, console output, meters and exits. It serves until the agent closes its end
 * (the agent stopped, or died), then stops every VM it still runs.
 */
final class VmmHost {
  private static final Logger LOG = LoggerFactory.getLogger(VmmHost.class);
  // Console output goes back in chunks no larger than this, and a VM may have this much waiting.
  private static final int CONSOLE_CHUNK = 16 << 10;
  private static final int CONSOLE_BACKLOG = 64 << 10;

  private final VmRuntime runtime;
  private final InputStream in;
  private final OutputStream out;
  private final Map<Integer, RunningVm> vms = new ConcurrentHashMap<>();
  private final ExecutorService work = Executors.newVirtualThreadPerTaskExecutor();
  private final CountDownLatch served = new CountDownLatch(1);
  private final ConsoleRelay console =
      new ConsoleRelay(
          CONSOLE_BACKLOG,
          CONSOLE_CHUNK,
          (key, b, off, len) -> send(Wire.Op.CONSOLE, new Wire.Out().i32(key).bytes(b, off, len)));

  VmmHost(VmRuntime runtime, InputStream in, OutputStream out) {
    this.runtime = runtime;
    this.in = in;
    this.out = out;
  }

  /** Serves until the agent's end closes; returns once every VM has stopped. */
  void serve() throws IOException {
    try {
      send(Wire.Op.HELLO, new Wire.Out().i32(Wire.VERSION).i64(ProcessHandle.current().pid()));
      Wire.Frame f;
      while ((f = Wire.read(in)) != null) {
        dispatch(f);
      }
    } finally {
      stopAll();
      served.countDown();
    }
  }

  /** Waits, at most {@code limit}, until {@link #serve} has returned. */
  boolean awaitServed(Duration limit) throws InterruptedException {
    return served.await(limit.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void dispatch(Wire.Frame f) throws IOException {
    Wire.In b = f.body();
    switch (f.op()) {
      case START, RESTORE -> {
        long req = b.i64();
        int key = b.i32();
        Path dir = f.op() == Wire.Op.RESTORE ? Path.of(b.str()) : null;
        ConsoleRelay.Backlog output = console.open(key);
        VmLaunch launch = LaunchCodec.read(b, output, new MeterFrames(key));
        answer(req, () -> launch(key, dir, launch, output));
      }
      case STOP -> {
        long req = b.i64();
        int key = b.i32();
        Duration grace = Duration.ofMillis(b.i64());
        String reason = b.str();
        onVm(req, key, vm -> vm.stop(grace, reason));
      }
      case PAUSE -> onVm(b.i64(), b.i32(), RunningVm::pause);
      case RESUME -> onVm(b.i64(), b.i32(), RunningVm::resume);
      case SUSPEND -> {
        long req = b.i64();
        int key = b.i32();
        Path dir = Path.of(b.str());
        onVm(req, key, vm -> vm.suspend(dir));
      }
      case LIMITS -> {
        RunningVm vm = vms.get(b.i32());
        VmLaunch.Limits limits = LaunchCodec.readLimits(b);
        if (vm != null) {
          vm.updateLimits(limits);
        }
      }
      case CONSOLE_IN -> {
        // Inline: it never blocks, and the agent sends the next chunk only after this reply.
        long req = b.i64();
        RunningVm vm = vms.get(b.i32());
        byte[] bytes = b.bytes();
        reply(req, true, vm == null ? 0 : vm.offerConsoleInput(bytes), "", "");
      }
      default -> throw new VmmHostException("the agent sent a " + f.op() + " frame");
    }
  }

  private void launch(int key, Path dir, VmLaunch launch, ConsoleRelay.Backlog output)
      throws VmStartException {
    RunningVm vm = dir == null ? runtime.start(launch) : runtime.restore(dir, launch);
    vms.put(key, vm);
    vm.booted().thenAccept(d -> send(Wire.Op.BOOTED, new Wire.Out().i32(key).i64(d.toNanos())));
    vm.exit()
        .thenAccept(
            e -> {
              vms.remove(key);
              output.drain(); // the agent has the whole console when the exit arrives
              Wire.Out body = new Wire.Out().i32(key);
              LaunchCodec.write(body, e);
              send(Wire.Op.EXIT, body);
            });
  }

  private interface Step {
    void run() throws VmStartException;
  }

  /** Runs {@code step} off the reader thread and replies: ok, or why it failed. */
  private void answer(long req, Step step) {
    work.execute(
        () -> {
          try {
            step.run();
            reply(req, true, 0, "", "");
          } catch (VmStartException e) {
            reply(req, false, 0, e.reason(), String.valueOf(e.getMessage()));
          } catch (RuntimeException e) {
            reply(req, false, 0, HearthApi.Reasons.VMM_ERROR, String.valueOf(e));
          }
        });
  }

  private interface VmAction {
    void run(RunningVm vm) throws VmStartException;
  }

  /** Runs {@code action} on VM {@code key} off the reader thread, and replies. */
  private void onVm(long req, int key, VmAction action) {
    RunningVm vm = vms.get(key);
    if (vm == null) {
      reply(req, false, 0, HearthApi.Reasons.VMM_ERROR, "no VM " + key + " in this VMM process");
      return;
    }
    answer(req, () -> action.run(vm));
  }

  private void reply(long req, boolean ok, int value, String reason, String message) {
    send(Wire.Op.REPLY, new Wire.Out().i64(req).bool(ok).i32(value).str(reason).str(message));
  }

  /** Sends one frame; once the agent is gone, frames are dropped (serve() then stops the VMs). */
  private void send(Wire.Op op, Wire.Out body) {
    synchronized (out) {
      try {
        Wire.write(out, op, body);
      } catch (IOException e) {
        LOG.debug("the agent is gone; {} not sent: {}", op, e.toString());
      }
    }
  }

  private void stopAll() {
    List<RunningVm> left = new ArrayList<>(vms.values());
    if (!left.isEmpty()) {
      LOG.warn("the agent closed this VMM process; stopping its {} VMs", left.size());
    }
    try (ExecutorService stops = Executors.newVirtualThreadPerTaskExecutor()) {
      for (RunningVm vm : left) {
        stops.execute(() -> vm.stop(Duration.ZERO, "the agent closed its VMM process"));
      }
    }
    work.shutdown();
    console.close();
  }

  /** A VM's meters, sent back as {@link Wire.Op#METER} frames for the agent's registry. */
  private final class MeterFrames implements VmMeters {
    private final int key;

    MeterFrames(int key) {
      this.key = key;
    }

    private void meter(MeterKind kind, String name, String detail, int index, long count) {
      send(
          Wire.Op.METER,
          new Wire.Out().i32(key).i32(kind.ordinal()).str(name).str(detail).i32(index).i64(count));
    }

    @Override
    public void vcpuExits(int vcpu, long count) {
      meter(MeterKind.VCPU_EXITS, "", "", vcpu, count);
    }

    @Override
    public void blockBytes(String drive, BlockOp op, long bytes) {
      meter(MeterKind.BLOCK_BYTES, drive, "", op.ordinal(), bytes);
    }

    @Override
    public void netBytes(String iface, NetDirection direction, long bytes) {
      meter(MeterKind.NET_BYTES, iface, "", direction.ordinal(), bytes);
    }

    @Override
    public void throttled(String device, String bucket, long count) {
      meter(MeterKind.THROTTLED, device, bucket, 0, count);
    }
  }

  /** Which {@link VmMeters} method a {@link Wire.Op#METER} frame stands for. */
  enum MeterKind {
    VCPU_EXITS,
    BLOCK_BYTES,
    NET_BYTES,
    THROTTLED
  }
}
