package dev.hearth.vmm.bench;

import dev.hearth.vmm.config.BootSource;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.vm.MicroVm;
import dev.hearth.vmm.vm.VmExit;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Hearth's VMM costs on a tiny guest, each printed beside baselines measured in the same run: QEMU
 * microvm on KVM booting the same guest (when a QEMU is given), and the bare KVM floor ({@link
 * BareKvm}: the same guest on the same ioctls, on one thread, with no VMM around them). Not a test:
 * run it with {@code vmm/src/bench/run-bench.sh}.
 *
 * <p>Figures: set-up from config to the guest's first exit (a console byte; for QEMU, process
 * launch to that byte), in wall time and in this process's CPU time; teardown of a running idle VM;
 * whole VM lifecycles (create, run the guest to its end, close) per CPU-second; and host memory per
 * idle VM. Against bare KVM each is also given as the median of per-sample (per-round) ratios, with
 * the two sides alternating, since other processes' load moves single samples a lot. CPU time is
 * {@code clock_gettime(CLOCK_PROCESS_CPUTIME_ID)}: every thread of the process.
 *
 * <p>Arguments: guests dir, samples, idle VMs, and optionally a qemu-system-x86_64 path.
 */
public final class VmmBench {
  /** What the bench guest prints with {@code console=ttyS0}. */
  private static final String GREETING = "Hello from a Hearth guest! cmdline: console=ttyS0\n";

  /** Lifecycles of each kind before measuring. */
  private static final int WARM_UP = 600;

  /** Lifecycles per side in one throughput round. */
  private static final int ROUND = 10;

  public static void main(String[] args) throws Exception {
    Path guests = Path.of(args.length > 0 ? args[0] : "vmm/target/guests");
    int n = args.length > 1 ? Integer.parseInt(args[1]) : 50;
    int idleVms = args.length > 2 ? Integer.parseInt(args[2]) : 100;
    QemuRunner qemu = args.length > 3 ? new QemuRunner(args[3], guests.resolve("bench.elf")) : null;
    Path guest = guests.resolve("bench.elf");
    String qemuSkipped = null;
    if (qemu != null) {
      // Not every KVM runs QEMU: a paravirtualised one refuses its MSR set-up (MSR 0x10a).
      try {
        qemuLifecycle(qemu);
      } catch (IOException e) {
        qemuSkipped = e.getMessage().strip().replaceAll("\\s+", " ");
        qemu = null;
      }
    }

    // Steady state: VM creation runs each of its methods once per VM, so the JIT compiles them
    // only after a few hundred VMs (an agent gets there soon); before that both sides run
    // interpreted, Hearth, with more Java per VM, pays more for it, and the JIT's own threads
    // take the CPU from the VM being made. -Dbench.warmup=N to see.
    progress("warm-up");
    for (int i = 0; i < Integer.getInteger("bench.warmup", WARM_UP); i++) {
      lifecycle(guest, i);
      bareSetUp(guest);
      runToExit(guest, i);
      bareLifecycle(guest);
    }
    double[][] hearth = new double[3][n];
    double[][] bare = new double[3][n];
    double[][] q = new double[2][n];
    progress("set-up and teardown");
    for (int i = 0; i < n; i++) {
      // Alternate which side goes first: a VM's teardown leaves the kernel work (RCU callbacks,
      // grace periods) that slows whatever creates the next VM.
      double[] f;
      double[] h;
      if (i % 2 == 0) {
        f = bareSetUp(guest);
        h = lifecycle(guest, i);
      } else {
        h = lifecycle(guest, i);
        f = bareSetUp(guest);
      }
      for (int k = 0; k < 3; k++) {
        bare[k][i] = f[k];
        hearth[k][i] = h[k];
      }
      if (qemu != null) {
        double[] r = qemuLifecycle(qemu);
        q[0][i] = r[0];
        q[1][i] = r[1];
      }
    }

    progress("throughput");
    // Alternating short rounds (which side first alternates too), so that other processes' load
    // hits both alike; medians of rounds.
    int rounds = Math.max(10, 2 * n / ROUND);
    double[] hearthRates = new double[rounds];
    double[] bareRates = new double[rounds];
    double[] rateRatios = new double[rounds];
    double[] hearthWallRates = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      if (r % 2 == 1) {
        bareRates[r] = bareRound(guest);
      }
      long cpu0 = processCpuNanos();
      long t0 = System.nanoTime();
      for (int i = 0; i < ROUND; i++) {
        runToExit(guest, i);
      }
      hearthRates[r] = ROUND / ((processCpuNanos() - cpu0) / 1e9);
      hearthWallRates[r] = ROUND / ((System.nanoTime() - t0) / 1e9);
      if (r % 2 == 0) {
        bareRates[r] = bareRound(guest);
      }
      rateRatios[r] = hearthRates[r] / bareRates[r];
    }
    double qemuRate = Double.NaN;
    if (qemu != null) {
      double c0 = QemuRunner.childCpuSeconds();
      for (int i = 0; i < n; i++) {
        QemuRunner.drainAndWait(qemu.launch("console=ttyS0"));
      }
      qemuRate = n / (QemuRunner.childCpuSeconds() - c0);
    }

    progress("idle memory");
    long hearthPerVm = hearthIdleMemory(guest, idleVms);
    long qemuPerVm = qemu == null ? -1 : qemuIdleMemory(qemu, Math.min(idleVms, 10));

    System.out.printf(
        "%nHearth VMM bench: %d samples (medians), %d idle VMs, on %s%n", n, idleVms, cpu());
    if (qemuSkipped != null) {
      System.out.println("QEMU baseline left out: it cannot run on this KVM (" + qemuSkipped + ")");
    }
    System.out.printf(
        "%-30s %12s %12s %12s %10s %10s%n",
        "figure", "Hearth", "QEMU", "bare KVM", "vs QEMU", "vs bare");
    row("set-up to first guest exit ms", median(hearth[0]), median(q[0]), median(bare[0]), qemu);
    row("set-up CPU ms", median(hearth[2]), Double.NaN, median(bare[2]), null);
    row("teardown ms", median(hearth[1]), median(q[1]), median(bare[1]), qemu);
    row("VM lifecycles per CPU-second", median(hearthRates), qemuRate, median(bareRates), qemu);
    row("host memory per idle VM KiB", hearthPerVm / 1024.0, qemuPerVm / 1024.0, Double.NaN, qemu);
    System.out.printf(
        "Hearth against bare KVM, medians of per-sample ratios: set-up %.2fx wall, %.2fx CPU;"
            + " lifecycles per CPU-second %.2f of bare (%d rounds of %d)%n",
        median(ratios(hearth[0], bare[0])),
        median(ratios(hearth[2], bare[2])),
        median(rateRatios),
        rounds,
        ROUND);
    System.out.printf(
        "(Hearth lifecycles per wall-second, one at a time: %.1f)%n", median(hearthWallRates));
    System.out.println(
        "QEMU: microvm, -accel kvm, 8 MiB, the same guest through its PVH entry; set-up is launch to"
            + " first console byte, teardown is SIGTERM to exit, memory is VmRSS of one process."
            + " bare KVM: the same guest on the same ioctls with no VMM around them (BareKvm:"
            + " VM + irqchip + PIT + 8 MiB slot + ELF + page tables + vCPU + CPUID/sregs/regs,"
            + " KVM_RUN to the first console byte for set-up, to the guest's reset for a"
            + " lifecycle, then close); teardown there is the close alone. CPU is this process's"
            + " (every thread), per VM. Hearth memory: RSS growth of this JVM per idle VM, guest"
            + " pages touched included.");
  }

  private static void progress(String what) {
    System.err.println("bench: " + what + " at " + java.time.LocalTime.now());
  }

  private static VmConfig config(Path kernel, int i, String cmdline) {
    return VmConfig.of("bench-" + i, 1, 8, BootSource.of(kernel, cmdline));
  }

  /**
   * {set-up ms, teardown ms, set-up CPU ms}: to the first console byte, then stop and close of the
   * idle VM.
   */
  private static double[] lifecycle(Path guest, int i) throws Exception {
    CountDownLatch firstByte = new CountDownLatch(1);
    long[] firstAt = new long[2];
    OutputStream sink =
        new OutputStream() {
          @Override
          public void write(int b) {
            if (firstAt[0] == 0) {
              firstAt[0] = System.nanoTime();
              firstAt[1] = processCpuNanos();
              firstByte.countDown();
            }
          }
        };
    long cpu0 = processCpuNanos();
    long t0 = System.nanoTime();
    MicroVm vm = MicroVm.create(config(guest, i, "console=ttyS0 idle=1"), sink);
    vm.start();
    if (!firstByte.await(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("no console output from the guest");
    }
    while (!vm.console().text().endsWith("idle=1\n")) {
      Thread.sleep(0, 100_000);
    }
    long t1 = System.nanoTime();
    vm.stop();
    vm.close();
    long t2 = System.nanoTime();
    return new double[] {(firstAt[0] - t0) / 1e6, (t2 - t1) / 1e6, (firstAt[1] - cpu0) / 1e6};
  }

  private static void runToExit(Path guest, int i) throws Exception {
    try (MicroVm vm = MicroVm.create(config(guest, i, "console=ttyS0"), null)) {
      vm.start();
      VmExit exit = vm.waitForExit(Duration.ofSeconds(60)).orElseThrow();
      if (!exit.isClean() || !vm.console().text().equals(GREETING)) {
        throw new IllegalStateException(
            "guest ended badly: " + exit + ", console " + vm.console().text());
      }
    }
  }

  private static double[] qemuLifecycle(QemuRunner qemu) throws Exception {
    long t0 = System.nanoTime();
    Process p = qemu.launch("console=ttyS0 idle=1");
    double setup = QemuRunner.awaitFirstByte(p, t0);
    QemuRunner.awaitText(p, "idle=1\n");
    long t1 = System.nanoTime();
    p.destroy();
    QemuRunner.drainAndWait(p);
    return new double[] {setup, (System.nanoTime() - t1) / 1e6};
  }

  /** The bare KVM floor: {set-up ms, teardown ms, set-up CPU ms}. */
  private static double[] bareSetUp(Path guest) throws Exception {
    long cpu0 = processCpuNanos();
    BareKvm.Run r = BareKvm.run(guest, "console=ttyS0 idle=1", true);
    // To the first exit, as Hearth's is: the close after it is teardown.
    long cpu = r.firstExitCpuNanos() - cpu0;
    return new double[] {
      r.firstExitNanos() / 1e6, (r.closedNanos() - r.endNanos()) / 1e6, cpu / 1e6
    };
  }

  /** A bare KVM lifecycle: the whole guest run, checked to have printed what Hearth's does. */
  private static void bareLifecycle(Path guest) throws Exception {
    BareKvm.Run r = BareKvm.run(guest, "console=ttyS0", false);
    if (r.consoleBytes() != GREETING.length()) {
      throw new IllegalStateException(
          "bare KVM guest printed " + r.consoleBytes() + " bytes, not " + GREETING.length());
    }
  }

  /** Bare KVM lifecycles per CPU-second over one round. */
  private static double bareRound(Path guest) throws Exception {
    long cpu0 = processCpuNanos();
    for (int i = 0; i < ROUND; i++) {
      bareLifecycle(guest);
    }
    return ROUND / ((processCpuNanos() - cpu0) / 1e9);
  }

  private static double[] ratios(double[] a, double[] b) {
    double[] r = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      r[i] = a[i] / b[i];
    }
    return r;
  }

  private static long hearthIdleMemory(Path guest, int count) throws Exception {
    System.gc();
    long before = rssBytes();
    List<MicroVm> vms = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      MicroVm vm = MicroVm.create(config(guest, i, "console=ttyS0 idle=1"), null);
      vms.add(vm);
      vm.start();
    }
    for (MicroVm vm : vms) {
      while (!vm.console().text().endsWith("idle=1\n")) {
        Thread.sleep(1);
      }
    }
    System.gc();
    long after = rssBytes();
    for (MicroVm vm : vms) {
      vm.close();
    }
    return (after - before) / count;
  }

  private static long qemuIdleMemory(QemuRunner qemu, int count) throws Exception {
    List<Process> ps = new ArrayList<>();
    long total = 0;
    for (int i = 0; i < count; i++) {
      Process p = qemu.launch("console=ttyS0 idle=1");
      ps.add(p);
      QemuRunner.awaitText(p, "idle=1\n");
    }
    for (Process p : ps) {
      total += QemuRunner.rssBytes(p);
      p.destroy();
      QemuRunner.drainAndWait(p);
    }
    return total / count;
  }

  private static void row(String what, double h, double q, double bare, QemuRunner qemu) {
    System.out.printf(
        "%-30s %12.3f %12s %12s %10s %10s%n",
        what,
        h,
        qemu == null ? "-" : String.format("%.3f", q),
        Double.isNaN(bare) ? "-" : String.format("%.3f", bare),
        qemu == null ? "-" : String.format("%.2f", h / q),
        Double.isNaN(bare) ? "-" : String.format("%.2f", h / bare));
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static long processCpuNanos() {
    return HostStats.processCpuNanos();
  }

  private static long rssBytes() throws Exception {
    return HostStats.rssBytes(ProcessHandle.current().pid());
  }

  private static String cpu() throws Exception {
    String model = "unknown CPU";
    for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
      if (line.startsWith("model name")) {
        model = line.substring(line.indexOf(':') + 1).strip();
        break;
      }
    }
    return model + ", " + Runtime.getRuntime().availableProcessors() + " CPUs";
  }
}
