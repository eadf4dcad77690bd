package dev.hearth.agent.vmmhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hearth.agent.metrics.AgentMetrics;
import dev.hearth.agent.metrics.VmMeters;
import dev.hearth.agent.runtime.GuestExit;
import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.runtime.VmStartException;
import dev.hearth.agent.testing.FakeVmRuntime;
import dev.hearth.agent.testing.TestLaunches;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.vmm.config.SeccompMode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's side of VMM processes against real child JVMs whose runtime boots nothing ({@link
 * FakeVmmHostMain}): placement, every request across the process, and children that misbehave.
 * {@code VmmProcessRuntimeKvmIT} does the same with real VMs.
 */
class VmmProcessRuntimeTest {
  @TempDir Path dir;

  private static List<String> fakeHost(String name) {
    return List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+UseSerialGC",
        "-Xshare:auto",
        "-XX:TieredStopAtLevel=1",
        "-cp",
        System.getProperty("java.class.path"),
        FakeVmmHostMain.class.getName());
  }

  @Test
  void everyRequestCrossesTheProcessAndAnswers() throws Exception {
    try (VmmProcessRuntime runtime = new VmmProcessRuntime(2, VmmProcessRuntimeTest::fakeHost)) {
      Console console = new Console();
      RunningVm vm = runtime.start(launch("ns/a", console));
      await().atMost(Duration.ofSeconds(10)).until(() -> console.text().contains("booting ns/a"));
      assertThat(vm.offerConsoleInput("ls\n".getBytes(StandardCharsets.US_ASCII))).isEqualTo(3);
      vm.updateLimits(VmLaunch.Limits.NONE);
      vm.pause();
      vm.resume();

      Path snapshot = dir.resolve("snap");
      vm.suspend(snapshot);
      assertThat(vm.exit()).isDone();
      assertThat(vm.exit().get().message()).isEqualTo("suspended");
      assertThat(Files.readString(snapshot.resolve("fake-snapshot"))).isEqualTo("ns/a");
      assertThat(vm.offerConsoleInput(new byte[] {1})).as("an ended VM takes no input").isZero();

      RunningVm restored = runtime.restore(snapshot, launch("ns/a", new Console()));
      restored.stop(Duration.ofSeconds(1), "done with it");
      GuestExit e = restored.exit().get(10, TimeUnit.SECONDS);
      assertThat(e.reason()).isEqualTo("Stopped");
      assertThat(e.message()).isEqualTo("done with it");
    }
  }

  @Test
  void whatAVmPrintsAsItEndsReachesTheAgentBeforeItsExit() throws Exception {
    try (VmmProcessRuntime runtime = new VmmProcessRuntime(2, VmmProcessRuntimeTest::fakeHost)) {
      for (int round = 0; round < 5; round++) {
        Console console = new Console();
        RunningVm vm =
            runtime.start(
                TestLaunches.plain(
                    "ns/bye-" + round,
                    Path.of("/nonexistent/vmlinux"),
                    16,
                    FakeVmRuntime.FakeVm.FAREWELL,
                    console,
                    VmMeters.NONE));
        vm.stop(Duration.ofSeconds(1), "done");
        vm.exit().get(10, TimeUnit.SECONDS);
        // Read at the exit: the whole farewell (19 KiB, two of the relay's chunks) is there.
        String text = console.text();
        assertThat(text).endsWith(farewell(FakeVmRuntime.FakeVm.FAREWELL_LINES));
      }
    }
  }

  private static String farewell(int lines) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < lines; i++) {
      b.append(FakeVmRuntime.FakeVm.farewellLine(i));
    }
    return b.toString();
  }

  @Test
  void aRefusedRestoreKeepsItsReasonAndMessage() throws Exception {
    try (VmmProcessRuntime runtime = new VmmProcessRuntime(2, VmmProcessRuntimeTest::fakeHost)) {
      assertThatThrownBy(
              () -> runtime.restore(dir.resolve("nothing"), launch("ns/b", new Console())))
          .isInstanceOfSatisfying(
              VmStartException.class,
              x -> {
                assertThat(x.reason()).isEqualTo(HearthApi.Reasons.RESTORE_FAILED);
                assertThat(x.getMessage()).contains("no snapshot in").contains("nothing");
              });
      // The process serves on.
      RunningVm vm = runtime.start(launch("ns/c", new Console()));
      assertThat(vm.exit()).isNotDone();
    }
  }

  @Test
  void aProcessTakesAtMostItsShareAndANewOneStartsForTheRest() throws Exception {
    try (VmmProcessRuntime runtime = new VmmProcessRuntime(2, VmmProcessRuntimeTest::fakeHost)) {
      RunningVm a = runtime.start(launch("ns/1", new Console()));
      runtime.start(launch("ns/2", new Console()));
      long first = runtime.pids().getFirst();
      // The first is full: the next process starts ahead of need, counted once it has started
      // (with no VMs), and the next VM goes there.
      await().atMost(Duration.ofSeconds(20)).until(() -> runtime.pids().size() == 2);
      assertThat(runtime.vmsPerVmmProcess()).containsExactly(2, 0);
      long spare = runtime.pids().get(1);
      assertThat(ProcessHandle.current().children().map(ProcessHandle::pid))
          .containsExactlyInAnyOrder(first, spare);
      runtime.start(launch("ns/3", new Console()));
      assertThat(runtime.pids()).hasSize(2).contains(spare);
      // A VM that ends makes room in its process (once that process has heard of its exit, on its
      // own time), which the next VM takes. Placed earlier, it would fill the second process and
      // start another spare, which the list below would then count.
      a.stop(Duration.ofSeconds(1), "room");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> runtime.vmsPerVmmProcess().equals(List.of(1, 1)));
      runtime.start(launch("ns/4", new Console()));
      assertThat(runtime.pids()).hasSize(2);
      assertThat(runtime.vmsPerVmmProcess()).containsExactly(2, 1);
      AgentMetrics metrics = new AgentMetrics();
      metrics.vmmProcesses(runtime);
      assertThat(metrics.scrape())
          .contains("hearth_vmm_processes 2.0")
          .contains("hearth_vmm_process_vms_max 2.0");
    }
  }

  @Test
  void aSignalToTheChildWaitsForTheAgentToFinishWithItsVms() throws Exception {
    VmmProcessRuntime runtime = new VmmProcessRuntime(2, VmmProcessRuntimeTest::fakeHost);
    RunningVm vm = runtime.start(launch("ns/s", new Console()));
    ProcessHandle child = ProcessHandle.of(runtime.pids().getFirst()).orElseThrow();
    child.destroy(); // SIGTERM, as systemd sends to a whole cgroup
    Thread.sleep(500);
    assertThat(child.isAlive()).as("the VMM process after SIGTERM").isTrue();
    Path snapshot = dir.resolve("after-sigterm");
    vm.suspend(snapshot);
    assertThat(snapshot.resolve("fake-snapshot")).exists();
    runtime.close();
    child.onExit().get(20, TimeUnit.SECONDS);
  }

  @Test
  void aChildWhoseJvmCrashesEndsItsVmsNamingItsCrashReport() throws Exception {
    try (VmmProcessRuntime runtime =
        new VmmProcessRuntime(
            2,
            name -> {
              List<String> command = new ArrayList<>(fakeHost(name));
              command.add(1, "-XX:ErrorFile=" + VmmProcess.crashReportPattern(name));
              command.add("crash");
              return command;
            })) {
      RunningVm vm = runtime.start(launch("ns/crash", new Console()));
      long pid = runtime.pids().getFirst();
      Path report = VmmProcess.crashReport("vmm-1", pid);
      try {
        GuestExit exit = vm.exit().get(30, TimeUnit.SECONDS);
        assertThat(exit.reason()).isEqualTo(HearthApi.Reasons.VMM_ERROR);
        // The JVM's report began on the frames' stream; the child was let finish the file.
        assertThat(exit.message()).contains("its JVM crashed, its report is " + report);
        assertThat(report).content().contains("SIGSEGV");
      } finally {
        Files.deleteIfExists(report);
      }
    }
  }

  @Test
  void aChildThatSpeaksGarbageIsKilledAndTheStartFails() {
    try (VmmProcessRuntime runtime =
        new VmmProcessRuntime(2, name -> List.of("sh", "-c", "printf garbage!; sleep 30"))) {
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> runtime.start(launch("ns/x", new Console())))
          .isInstanceOfSatisfying(
              VmStartException.class,
              x -> {
                assertThat(x.reason()).isEqualTo(HearthApi.Reasons.VM_CREATE_FAILED);
                assertThat(x.getMessage()).contains("frame length").contains("did not start");
              });
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
      // The next VM does not start (and lose) another JVM at once: it fails with the same reason.
      long before = ProcessHandle.current().children().count();
      assertThatThrownBy(() -> runtime.start(launch("ns/x2", new Console())))
          .isInstanceOf(VmStartException.class)
          .hasMessageContaining("frame length")
          .hasMessageContaining("next try");
      assertThat(ProcessHandle.current().children().count()).isLessThanOrEqualTo(before);
    }
  }

  @Test
  void theChildJvmsOwnMessagesStayOffTheFrames() {
    // A JVM message (here: an archive it cannot map) goes to stdout by default, the frames' stream.
    try (VmmProcessRuntime runtime =
        new VmmProcessRuntime(
            1,
            dir.resolve("vsock"),
            SeccompMode.ENFORCE,
            List.of("-XX:SharedArchiveFile=" + dir.resolve("none.jsa")))) {
      assertThatThrownBy(() -> runtime.start(launch("ns/m", new Console())))
          .as("the child greeted and served: the VMM itself refused the missing kernel")
          .isInstanceOfSatisfying(
              VmStartException.class,
              x -> assertThat(x.reason()).isEqualTo(HearthApi.Reasons.INVALID_VM_CONFIG));
    }
  }

  @Test
  void aChildOfAnotherProtocolVersionIsRefused() {
    // HELLO with version 99: length 12, type 64, int 99, long 1 (octal escapes for sh's printf).
    String hello =
        "printf '\\000\\000\\000\\014\\100\\000\\000\\000\\143\\000\\000\\000\\000\\000\\000\\000\\001';"
            + " sleep 30";
    try (VmmProcessRuntime runtime = new VmmProcessRuntime(2, name -> List.of("sh", "-c", hello))) {
      assertThatThrownBy(() -> runtime.start(launch("ns/y", new Console())))
          .isInstanceOf(VmStartException.class)
          .hasMessageContaining("speaks protocol 99");
    }
  }

  private static VmLaunch launch(String id, ByteArrayOutputStream console) {
    return TestLaunches.plain(id, Path.of("/nonexistent/vmlinux"), 16, console, VmMeters.NONE);
  }

  private static final class Console extends ByteArrayOutputStream {
    synchronized String text() {
      return toString(StandardCharsets.UTF_8);
    }
  }
}
