package dev.hearth.agent.vmmhost;

import static dev.hearth.vmm.testing.ConsoleCounts.TICK;
import static dev.hearth.vmm.testing.ConsoleCounts.all;
import static dev.hearth.vmm.testing.ConsoleCounts.first;
import static dev.hearth.vmm.testing.ConsoleCounts.last;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hearth.agent.metrics.VmMeters;
import dev.hearth.agent.runtime.GuestExit;
import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.runtime.VmStartException;
import dev.hearth.agent.testing.TestLaunches;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.vmm.config.SeccompMode;
import dev.hearth.vmm.testing.BuiltGuests;
import dev.hearth.vmm.testing.RequiresKvm;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * VMs in VMM processes on real KVM: the tiny test guests boot in child JVMs, at most N per process,
 * and everything the agent does with a VM (console both ways, meters, pause, resume, suspend,
 * restore, stop) crosses the process boundary; a VMM process that dies takes only its own VMs, with
 * VmmError; closing the runtime leaves no process behind.
 */
@RequiresKvm
class VmmProcessRuntimeKvmIT {

  @TempDir Path dir;
  private VmmProcessRuntime runtime;

  @BeforeEach
  void runtime() {
    runtime = new VmmProcessRuntime(2, dir.resolve("vsock"), SeccompMode.ENFORCE);
  }

  @AfterEach
  void close() {
    runtime.close();
  }

  @Test
  void vmsRunInChildProcessesAtMostNEach() throws Exception {
    Console[] consoles = {new Console(), new Console(), new Console()};
    for (int i = 0; i < consoles.length; i++) {
      runtime.start(launch("ns/idle-" + i, "idle", consoles[i], VmMeters.NONE));
    }
    for (Console c : consoles) {
      await().atMost(Duration.ofSeconds(30)).until(() -> c.text().contains("idle"));
    }
    List<Long> pids = runtime.pids();
    assertThat(pids).hasSize(2).doesNotContain(ProcessHandle.current().pid());
    for (long pid : pids) {
      assertThat(ProcessHandle.of(pid).map(ProcessHandle::parent).flatMap(p -> p))
          .map(ProcessHandle::pid)
          .contains(ProcessHandle.current().pid());
    }
  }

  @Test
  void consoleInputAndOutputCrossTheProcess() throws Exception {
    Console console = new Console();
    RunningVm vm = runtime.start(launch("ns/echo", "echo", console, VmMeters.NONE));
    await().atMost(Duration.ofSeconds(30)).until(() -> console.text().contains("echo: "));
    byte[] line = "over the pipe\n".getBytes(StandardCharsets.US_ASCII);
    int off = 0;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (off < line.length && System.nanoTime() < deadline) {
      off += vm.offerConsoleInput(java.util.Arrays.copyOfRange(line, off, line.length));
    }
    assertThat(off).isEqualTo(line.length);
    await().atMost(Duration.ofSeconds(30)).until(() -> console.text().contains("over the pipe"));
  }

  @Test
  void pauseResumeSuspendAndRestoreInAnotherProcess() throws Exception {
    Console console = new Console();
    Meters meters = new Meters();
    RunningVm vm = runtime.start(launch("ns/ticker", "ticker", console, meters));
    await().atMost(Duration.ofSeconds(30)).until(() -> last(TICK, console.text()) > 5);

    vm.pause();
    long paused = last(TICK, console.text());
    Thread.sleep(300);
    assertThat(last(TICK, console.text())).as("no tick while paused").isEqualTo(paused);
    vm.resume();
    await().atMost(Duration.ofSeconds(30)).until(() -> last(TICK, console.text()) > paused);

    Path snapshot = dir.resolve("snapshot");
    vm.suspend(snapshot);
    assertThat(vm.exit()).isDone();
    long suspendedAt = last(TICK, console.text());
    assertThat(meters.exits.get()).as("vCPU exits metered across the process").isPositive();

    // The first process now has room again; make it full so that the restore lands elsewhere.
    RunningVm a = runtime.start(launch("ns/idle-a", "idle", new Console(), VmMeters.NONE));
    RunningVm b = runtime.start(launch("ns/idle-b", "idle", new Console(), VmMeters.NONE));
    Console after = new Console();
    RunningVm restored = runtime.restore(snapshot, launch("ns/ticker", "ticker", after, meters));
    await().atMost(Duration.ofSeconds(30)).until(() -> last(TICK, after.text()) > suspendedAt + 3);
    // The suspend may cut a line: its first part ends the old console, the rest opens the new.
    assertThat(first(TICK, after.text()))
        .as("the restored guest goes on counting from where it was suspended")
        .isBetween(suspendedAt + 1, suspendedAt + 2);
    assertThat(all(TICK, console.text() + after.text()))
        .as("the two consoles together: every tick once, in order")
        .isEqualTo(LongStream.rangeClosed(0, last(TICK, after.text())).boxed().toList());
    assertThat(runtime.pids()).hasSize(2);

    restored.stop(Duration.ofSeconds(1), "test done");
    assertThat(restored.exit()).isDone();
    assertThat(restored.exit().get().reason()).isNotBlank();
    a.stop(Duration.ofSeconds(1), "test done");
    b.stop(Duration.ofSeconds(1), "test done");
  }

  @Test
  void aKilledVmmProcessEndsOnlyItsOwnVmsWithVmmError() throws Exception {
    RunningVm first = runtime.start(launch("ns/one", "idle", new Console(), VmMeters.NONE));
    runtime.start(launch("ns/two", "idle", new Console(), VmMeters.NONE));
    RunningVm other = runtime.start(launch("ns/three", "idle", new Console(), VmMeters.NONE));
    List<Long> pids = runtime.pids();
    assertThat(pids).hasSize(2);

    ProcessHandle.of(pids.getFirst()).orElseThrow().destroyForcibly();
    GuestExit e = first.exit().get(30, TimeUnit.SECONDS);
    assertThat(e.reason()).isEqualTo(HearthApi.Reasons.VMM_ERROR);
    assertThat(e.success()).isFalse();
    assertThat(e.message()).contains("VMM process").contains("ended");
    assertThat(other.exit()).as("a VM of the other process runs on").isNotDone();

    // The next VMs go where there is room: beside ns/three, then into a new process.
    for (String name : List.of("ns/four", "ns/five")) {
      Console c = new Console();
      runtime.start(launch(name, "idle", c, VmMeters.NONE));
      await().atMost(Duration.ofSeconds(30)).until(() -> c.text().contains("idle"));
    }
    assertThat(runtime.pids()).hasSize(2).doesNotContain(pids.getFirst()).contains(pids.get(1));
  }

  @Test
  void whatTheVmmRefusesFailsTheStartWithItsReason() {
    VmLaunch bad = launch("ns/bad", dir.resolve("no-such-kernel"), new Console(), VmMeters.NONE);
    assertThatThrownBy(() -> runtime.start(bad))
        .isInstanceOfSatisfying(
            VmStartException.class,
            x -> {
              assertThat(x.reason()).isEqualTo(HearthApi.Reasons.INVALID_VM_CONFIG);
              assertThat(x.getMessage()).contains("no-such-kernel");
            });
  }

  @Test
  void closingTheRuntimeStopsItsVmsAndLeavesNoProcess() throws Exception {
    RunningVm vm = runtime.start(launch("ns/idle", "idle", new Console(), VmMeters.NONE));
    List<ProcessHandle> children =
        runtime.pids().stream().map(p -> ProcessHandle.of(p).orElseThrow()).toList();
    runtime.close();
    assertThat(vm.exit().get(30, TimeUnit.SECONDS).reason()).isNotBlank();
    for (ProcessHandle p : children) {
      p.onExit().get(30, TimeUnit.SECONDS);
    }
    assertThatThrownBy(() -> runtime.start(launch("ns/late", "idle", new Console(), null)))
        .isInstanceOf(VmStartException.class)
        .hasMessageContaining("closing");
  }

  private static VmLaunch launch(String id, String guest, OutputStream console, VmMeters meters) {
    return launch(id, BuiltGuests.elf(guest).toAbsolutePath(), console, meters);
  }

  private static VmLaunch launch(String id, Path kernel, OutputStream console, VmMeters meters) {
    return TestLaunches.plain(id, kernel, 16, console, meters == null ? VmMeters.NONE : meters);
  }

  /** A console that keeps everything, read while the VM writes. */
  private static final class Console extends ByteArrayOutputStream {
    synchronized String text() {
      return toString(StandardCharsets.US_ASCII);
    }
  }

  private static final class Meters implements VmMeters {
    final AtomicLong exits = new AtomicLong();

    @Override
    public void vcpuExits(int vcpu, long count) {
      exits.addAndGet(count);
    }

    @Override
    public void blockBytes(String drive, BlockOp op, long bytes) {}

    @Override
    public void netBytes(String iface, NetDirection direction, long bytes) {}

    @Override
    public void throttled(String device, String bucket, long count) {}
  }
}
