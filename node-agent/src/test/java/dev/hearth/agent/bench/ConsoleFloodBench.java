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
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A benchmark, not a test ({@code node-agent/src/bench/run-agent-bench.sh N ConsoleFloodBench}):
 * what guests that flood their serial console cost their neighbours. In each mode (every VM in the
 * agent's JVM, and every VM in one VMM process), it runs N short guests one after another (each
 * greets on its console and resets) and times each from start to its exit, first on a quiet host,
 * then beside {@value #FLOODERS} guests that print without pause; it prints the medians and p99s
 * and their ratio, how many console bytes per second the flooders got through to the agent, and the
 * CPU each KiB of it cost while they ran alone. Embedded, the ratio is what the flooders' CPU takes
 * from the neighbours; in a VMM process, what sharing that process's one pipe to the agent adds to
 * it. Each short guest's console must hold its whole greeting when its exit arrives.
 */
class ConsoleFloodBench {
  private static final int GUEST_MIB = 16;
  private static final int FLOODERS = 2;
  private static final Duration FLOOD_WARM = Duration.ofSeconds(2);

  @Test
  void neighboursOfConsoleFloodersEmbeddedAndInAProcess() throws Exception {
    int n = Integer.getInteger("hearth.bench.vms", 200);
    Path hello = BuiltGuests.elf("hello").toAbsolutePath();
    Path ticker = BuiltGuests.elf("ticker").toAbsolutePath();
    Assumptions.assumeTrue(
        Files.isWritable(Path.of("/dev/kvm")) && Files.isReadable(hello),
        "needs /dev/kvm and the vmm test guests");
    Path vsock = Files.createTempDirectory("hearth-flood-bench");
    System.out.printf(
        "%nConsoleFloodBench: %d short guests one after another, quiet and beside %d console"
            + " flooders; %d CPUs, load %s%n",
        n, FLOODERS, Runtime.getRuntime().availableProcessors(), ProcessStats.loadAverage());
    for (int perProcess : new int[] {0, 100_000}) {
      String label = perProcess == 0 ? "embedded (agent's JVM)" : "one VMM process";
      VmRuntime runtime =
          perProcess == 0
              ? new VmmRuntime(vsock)
              : new VmmProcessRuntime(perProcess, vsock, SeccompMode.ENFORCE, List.of());
      try (runtime) {
        run(runtime, 20, hello); // warm-up: the JIT, the first VMM process
        long[] quiet = run(runtime, n, hello);
        AtomicLong flooded = new AtomicLong();
        List<RunningVm> flooders = new ArrayList<>();
        for (int i = 0; i < FLOODERS; i++) {
          flooders.add(
              runtime.start(
                  TestLaunches.plain(
                      "flood/" + i,
                      ticker,
                      GUEST_MIB,
                      "flood=1",
                      counting(flooded),
                      VmMeters.NONE)));
        }
        Thread.sleep(FLOOD_WARM.toMillis());
        long floodBytes0 = flooded.get();
        long floodCpu0 = ProcessTree.cpuNanosNow();
        Thread.sleep(FLOOD_WARM.toMillis());
        double cpuPerKib =
            (ProcessTree.cpuNanosNow() - floodCpu0)
                / 1e6
                / ((flooded.get() - floodBytes0) / 1024.0);
        long bytes0 = flooded.get();
        long t0 = System.nanoTime();
        long[] beside = run(runtime, n, hello);
        double perSecond = (flooded.get() - bytes0) / ((System.nanoTime() - t0) / 1e9);
        for (RunningVm f : flooders) {
          f.stop(Duration.ofSeconds(1), "benchmark done");
        }
        System.out.printf(
            "%n%s:%n  start to exit, quiet: p50 %.2f ms, p99 %.2f ms%n"
                + "  beside the flooders:  p50 %.2f ms, p99 %.2f ms (%.2fx, %.2fx)%n"
                + "  flooders' console bytes reaching the agent: %.0f KiB/s; alone, %.2f ms of CPU"
                + " per KiB (this JVM and its VMM process)%n",
            label,
            ms(quiet, 50),
            ms(quiet, 99),
            ms(beside, 50),
            ms(beside, 99),
            ms(beside, 50) / ms(quiet, 50),
            ms(beside, 99) / ms(quiet, 99),
            perSecond / 1024,
            cpuPerKib);
      }
    }
  }

  /** Runs {@code n} short guests one after another; returns each one's start-to-exit nanos. */
  private static long[] run(VmRuntime runtime, int n, Path hello) throws Exception {
    long[] took = new long[n];
    for (int i = 0; i < n; i++) {
      ByteArrayOutputStream console = new ByteArrayOutputStream();
      long t0 = System.nanoTime();
      RunningVm vm = runtime.start(launch("hello/" + i, hello, console));
      vm.exit().get(60, TimeUnit.SECONDS);
      took[i] = System.nanoTime() - t0;
      String text = console.toString(StandardCharsets.US_ASCII);
      if (!text.startsWith("Hello from a Hearth guest!") || !text.endsWith("\n")) {
        throw new IllegalStateException("at its exit, hello/" + i + " had printed: " + text);
      }
      vm.stop(Duration.ZERO, "done");
    }
    Arrays.sort(took);
    return took;
  }

  private static double ms(long[] sorted, int percentile) {
    return sorted[Math.min(sorted.length - 1, sorted.length * percentile / 100)] / 1e6;
  }

  private static OutputStream counting(AtomicLong bytes) {
    return new OutputStream() {
      @Override
      public void write(int b) {
        bytes.incrementAndGet();
      }

      @Override
      public void write(byte[] b, int off, int len) {
        bytes.addAndGet(len);
      }
    };
  }

  private static VmLaunch launch(String id, Path kernel, OutputStream console) {
    return TestLaunches.plain(id, kernel, GUEST_MIB, console, VmMeters.NONE);
  }
}
