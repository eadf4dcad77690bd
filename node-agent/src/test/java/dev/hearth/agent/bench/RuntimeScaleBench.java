package dev.hearth.agent.bench;

import dev.hearth.agent.metrics.VmMeters;
import dev.hearth.agent.runtime.RunningVm;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.agent.testing.TestLaunches;
import dev.hearth.agent.vmmhost.VmmProcessRuntime;
import dev.hearth.vmm.config.SeccompMode;
import dev.hearth.vmm.testing.BuiltGuests;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A benchmark, not a test ({@code node-agent/src/bench/run-agent-bench.sh N RuntimeScaleBench}):
 * starts N idle tiny guests one after another through the agent's runtime, with every VM in the
 * agent's JVM (the embedded VMM) and with VMs in VMM processes of at most S each, in the same run;
 * prints, by tenth of N, the mean start time and the CPU per VM of this JVM and every process under
 * it, then memory, threads, fds and mappings per VM and the teardown of all. Creating a KVM VM
 * costs its process time in proportion to the mappings already in it ({@code mm_take_all_locks});
 * what grows from the first tenth to the last shows that cost. Modes: {@code
 * -Dhearth.bench.perProcess=0,250,1000} (0: embedded).
 */
class RuntimeScaleBench {
  private static final int GUEST_MIB = 16;
  private static final int WARM = 50;

  @Test
  void startsByTenthEmbeddedAndInProcesses() throws Exception {
    int n = Integer.getInteger("hearth.bench.vms", 1000);
    Path idle = BuiltGuests.elf("idle").toAbsolutePath();
    Assumptions.assumeTrue(
        Files.isWritable(Path.of("/dev/kvm")) && Files.isReadable(idle),
        "needs /dev/kvm and the vmm test guests");
    int[] modes =
        Arrays.stream(System.getProperty("hearth.bench.perProcess", "0,250,1000").split(","))
            .mapToInt(s -> Integer.parseInt(s.strip()))
            .toArray();
    Path vsock = Files.createTempDirectory("hearth-runtime-bench");
    List<String> javaOptions =
        Arrays.stream(System.getProperty("hearth.bench.vmmJavaOptions", "").split(" "))
            .filter(o -> !o.isBlank())
            .toList();
    List<Result> results = new ArrayList<>();
    System.out.printf(
        "%nRuntimeScaleBench: %d idle guests (%d MiB) started one after another; %d CPUs, load %s%n",
        n, GUEST_MIB, Runtime.getRuntime().availableProcessors(), ProcessStats.loadAverage());
    for (int perProcess : modes) {
      VmRuntime runtime =
          perProcess == 0
              ? new VmmRuntime(vsock)
              : new VmmProcessRuntime(perProcess, vsock, SeccompMode.ENFORCE, javaOptions);
      try (runtime) {
        results.add(measure(runtime, perProcess, n, idle));
      }
    }
    Result base = results.getFirst();
    System.out.printf("%nAgainst %s, same run:%n", base.label());
    for (Result r : results) {
      System.out.printf(
          "  %-26s CPU/VM last tenth %.2fx its first; all starts %.2fx CPU, %.2fx wall of %s;"
              + " PSS/VM %.2fx%n",
          r.label(),
          r.cpuPerVm(9) / r.cpuPerVm(0),
          r.totalCpu() / (double) base.totalCpu(),
          r.totalWall() / (double) base.totalWall(),
          base.label(),
          r.pssPerVm() / (double) base.pssPerVm());
    }
  }

  private record Result(
      String label, long[] cpuByTenth, long[] wallByTenth, int[] countByTenth, long pssPerVm) {
    double cpuPerVm(int tenth) {
      return cpuByTenth[tenth] / (double) countByTenth[tenth];
    }

    long totalCpu() {
      return Arrays.stream(cpuByTenth).sum();
    }

    long totalWall() {
      return Arrays.stream(wallByTenth).sum();
    }
  }

  private static Result measure(VmRuntime runtime, int perProcess, int n, Path idle)
      throws Exception {
    String label = perProcess == 0 ? "embedded (one process)" : "processes of " + perProcess;
    // Warm-up: the JIT and the first VMM process are paid for before the clock starts.
    List<RunningVm> warm = new ArrayList<>();
    for (int i = 0; i < WARM; i++) {
      warm.add(runtime.start(launch("warm/" + i, idle)));
    }
    stopAll(warm);
    ProcessTree before = ProcessTree.now();
    List<RunningVm> vms = new ArrayList<>();
    long[] cpu = new long[10];
    long[] wall = new long[10];
    int[] count = new int[10];
    int tenth = Math.max(1, n / 10);
    long cpuAt = ProcessTree.cpuNanosNow();
    long wallAt = System.nanoTime();
    for (int i = 0; i < n; i++) {
      vms.add(runtime.start(launch("bench/vm-" + i, idle)));
      int t = Math.min(9, i / tenth);
      count[t]++;
      if ((i + 1) % tenth == 0 || i == n - 1) {
        long c = ProcessTree.cpuNanosNow();
        long w = System.nanoTime();
        cpu[t] += c - cpuAt;
        wall[t] += w - wallAt;
        cpuAt = c;
        wallAt = w;
      }
    }
    ProcessTree after = ProcessTree.now();
    System.out.printf(
        "%n%s: %d VMs, %d VMM processes beside this JVM%n", label, n, after.processes() - 1);
    for (int t = 0; t < 10; t++) {
      System.out.printf(
          "  tenth %d: start %.2f ms wall, %.2f ms CPU per VM%n",
          t, wall[t] / 1e6 / count[t], cpu[t] / 1e6 / count[t]);
    }
    long pssPerVm = (after.pss() - before.pss()) / n;
    System.out.printf(
        "  per VM: PSS %d KiB (guest pages the loader and guest touched included), %.2f threads,"
            + " %.2f fds, %.2f mappings; largest process %d mappings%n",
        pssPerVm >> 10,
        (after.threads() - before.threads()) / (double) n,
        (after.fds() - before.fds()) / (double) n,
        (after.mappings() - before.mappings()) / (double) n,
        after.maxMappings());
    // -Dhearth.bench.inspectSeconds=S: time to look at the processes (jcmd, smaps) before teardown.
    Thread.sleep(Integer.getInteger("hearth.bench.inspectSeconds", 0) * 1000L);
    long t0 = System.nanoTime();
    long c0 = ProcessTree.cpuNanosNow();
    stopAll(vms);
    System.out.printf(
        "  teardown of all: %d ms, %d ms CPU%n",
        (System.nanoTime() - t0) / 1_000_000, (ProcessTree.cpuNanosNow() - c0) / 1_000_000);
    return new Result(label, cpu, wall, count, pssPerVm);
  }

  /** Stops every VM at once, as the agent does when its VMs are deleted. */
  private static void stopAll(List<RunningVm> vms) {
    try (ExecutorService stops = Executors.newVirtualThreadPerTaskExecutor()) {
      for (RunningVm vm : vms) {
        stops.execute(() -> vm.stop(Duration.ofSeconds(1), "benchmark done"));
      }
    }
  }

  private static VmLaunch launch(String id, Path kernel) {
    return TestLaunches.plain(
        id, kernel, GUEST_MIB, OutputStream.nullOutputStream(), VmMeters.NONE);
  }
}
