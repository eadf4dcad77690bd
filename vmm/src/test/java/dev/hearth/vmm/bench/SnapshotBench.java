package dev.hearth.vmm.bench;

import dev.hearth.vmm.config.BootSource;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.memory.GuestRegion;
import dev.hearth.vmm.vm.MicroVm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Snapshot and restore against a cold boot of the same tiny guest, in one run and as ratios. Not a
 * test: run it with {@code vmm/src/bench/run-snapshot-bench.sh}. Self-contained (the VMM's public
 * API and the JDK only).
 *
 * <p>The guest is {@code echo}: its first instructions write to the console and, once ready, it
 * polls the UART's line status in a loop, so that its first guest exit comes within a few
 * instructions of its first instruction both after a cold boot and after a restore. That first exit
 * is the "first guest instruction" measured.
 *
 * <p>Per guest memory size, alternating in each round: a cold boot (create and start to the first
 * vCPU exit); suspend (pause, then snapshot to a directory); restore (build the VM from the
 * snapshot) and restore to the first vCPU exit after it; and the guest memory resident in this
 * process (from {@code /proc/self/smaps}) 20 ms into the poll loop after the cold boot (before the
 * suspend), and 20 ms after the restore.
 *
 * <p>Arguments: the guests dir, samples per size, and the memory sizes in MiB (default 16 and 256).
 */
public final class SnapshotBench {
  private SnapshotBench() {}

  public static void main(String[] args) throws Exception {
    Path guests = Path.of(args.length > 0 ? args[0] : "vmm/target/guests");
    int n = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    List<Long> sizes =
        args.length > 2
            ? Arrays.stream(args, 2, args.length).map(Long::valueOf).toList()
            : List.of(16L, 256L);
    Path work = Files.createTempDirectory("hearth-snapshot-bench");
    try {
      System.out.printf(
          "%8s | %10s %10s %10s %11s %7s | %9s %9s %6s | %10s%n",
          "memory",
          "cold ms",
          "suspend ms",
          "restore ms",
          "to 1st ms",
          "ratio",
          "rss KiB",
          "after KiB",
          "ratio",
          "file KiB");
      for (long mib : sizes) {
        VmConfig config =
            VmConfig.of(
                "snapbench", 1, mib, BootSource.of(guests.resolve("echo.elf"), "console=ttyS0"));
        for (int i = 0; i < 3; i++) {
          round(config, work.resolve("warm" + mib)); // warm-up: JIT, page cache
        }
        double[][] s = new double[7][n];
        for (int i = 0; i < n; i++) {
          double[] r = round(config, work.resolve("snap" + mib));
          for (int k = 0; k < r.length; k++) {
            s[k][i] = r[k];
          }
        }
        double cold = median(s[0]);
        double toFirst = median(s[3]);
        double rss = median(s[4]);
        double after = median(s[5]);
        System.out.printf(
            "%5d MiB | %10.2f %10.2f %10.2f %11.2f %7.2f | %9.0f %9.0f %6.2f | %10.0f%n",
            mib,
            cold,
            median(s[1]),
            median(s[2]),
            toFirst,
            toFirst / cold,
            rss,
            after,
            after / rss,
            median(s[6]));
      }
      System.out.println(
          "medians of "
              + n
              + " rounds; cold: create+start to the first guest exit; suspend: pause+snapshot;"
              + " restore: MicroVm.restore; to 1st: restore+start to the first guest exit;"
              + " ratio: to 1st / cold; rss: guest memory resident before suspend, after: 20 ms"
              + " after the restore; file: memory file blocks");
    } finally {
      try (Stream<Path> files = Files.walk(work)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** One round: cold ms, suspend ms, restore ms, restore-to-first-byte ms, RSS KiB x2, file KiB. */
  private static double[] round(VmConfig config, Path snap) throws Exception {
    double[] r = new double[7];
    long t0 = System.nanoTime();
    try (MicroVm vm = MicroVm.create(config, null)) {
      vm.start();
      awaitFirstExit(vm);
      r[0] = ms(t0);
      awaitReady(vm);
      Thread.sleep(20);
      r[4] = residentKiB(vm);
      t0 = System.nanoTime();
      vm.pause();
      vm.snapshot(snap);
      r[1] = ms(t0);
    }
    r[6] = Files.exists(snap.resolve("memory")) ? allocatedKiB(snap.resolve("memory")) : 0;
    t0 = System.nanoTime();
    try (MicroVm vm = MicroVm.restore(snap, config, null)) {
      r[2] = ms(t0);
      vm.start();
      awaitFirstExit(vm);
      r[3] = ms(t0);
      Thread.sleep(20);
      r[5] = residentKiB(vm);
      if (vm.state() != MicroVm.State.RUNNING) {
        throw new IllegalStateException("the restored guest ended: " + vm.waitForExit());
      }
    }
    return r;
  }

  /** Spins until the vCPU has left the guest once (the guest has run). */
  private static void awaitFirstExit(MicroVm vm) {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (vm.counters().vcpuExits().getFirst() == 0) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no guest exit: " + vm.console().text());
      }
      Thread.onSpinWait();
    }
  }

  private static void awaitReady(MicroVm vm) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!vm.console().text().contains("echo: ")) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the guest is not ready: " + vm.console().text());
      }
      Thread.sleep(1);
    }
  }

  /** The Rss of this process's mappings that back {@code vm}'s guest memory. */
  static double residentKiB(MicroVm vm) throws IOException {
    List<Long> starts =
        vm.memory().regions().stream().map(GuestRegion::host).map(h -> h.address()).toList();
    long kib = 0;
    boolean inGuest = false;
    for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
      int dash = line.indexOf('-');
      if (dash > 0 && line.indexOf(' ') > dash && isHex(line.substring(0, dash))) {
        inGuest = starts.contains(Long.parseUnsignedLong(line.substring(0, dash), 16));
      } else if (inGuest && line.startsWith("Rss:")) {
        kib += Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return kib;
  }

  private static boolean isHex(String s) {
    return !s.isEmpty() && s.chars().allMatch(c -> Character.digit(c, 16) >= 0);
  }

  /** Disk blocks the (sparse) memory file takes, from {@code stat -c %b} (512-byte blocks). */
  private static double allocatedKiB(Path file) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("stat", "-c", "%b", file.toString()).start();
    String out = new String(p.getInputStream().readAllBytes()).trim();
    p.waitFor();
    return Long.parseLong(out) / 2.0;
  }

  private static double ms(long t0) {
    return (System.nanoTime() - t0) / 1e6;
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }
}
