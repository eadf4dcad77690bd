package dev.hearth.vmm.bench;

import dev.hearth.vmm.config.BootSource;
import dev.hearth.vmm.config.DriveConfig;
import dev.hearth.vmm.config.RngConfig;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.config.VmDevices;
import dev.hearth.vmm.harness.TestGuest;
import dev.hearth.vmm.vm.MicroVm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The Linux test guest resumed from a snapshot against a cold boot of the same guest, in one run
 * and as ratios. Not a test: {@code vmm/src/bench/run-snapshot-bench.sh --linux} runs it in the
 * nested-KVM harness, where Linux boots.
 *
 * <p>Each round: a cold boot (create and start until the guest prints its ready marker, {@code
 * HEARTH-GUEST-READY}, from init), then its shell answers a line typed on the console; guest memory
 * resident 200 ms later; suspend (pause and snapshot); then the restore: {@code MicroVm.restore}
 * (the VM built), and with a line typed right after the start, until the restored shell answers it
 * (the guest runs again). An idle Linux guest at its prompt halts in the kernel's irqchip and may
 * not exit to the VMM for seconds, so the first exit is no measure of it running; the answer is.
 * Then guest memory resident 200 ms later. One warm-up round (JIT, page cache) is not counted.
 *
 * <p>Arguments: samples (default 3), guest memory MiB (default 128).
 */
public final class LinuxSnapshotBench {
  private static final String CMDLINE =
      "console=ttyS0 reboot=k panic=-1 quiet root=/dev/vda rw rootfstype=ext4 hearth.end=shell";

  private LinuxSnapshotBench() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    long mib = args.length > 1 ? Long.parseLong(args[1]) : 128;
    TestGuest guest = TestGuest.locate();
    Path work = Files.createTempDirectory("hearth-linux-snapshot-bench");
    try {
      round(guest, mib, work.resolve("warm-up"));
      double[][] s = new double[7][n];
      for (int i = 0; i < n; i++) {
        double[] r = round(guest, mib, work.resolve("round" + i));
        for (int k = 0; k < r.length; k++) {
          s[k][i] = r[k];
        }
        System.out.printf(
            "round %d: cold %.0f ms, suspend %.0f ms, restore %.1f ms, to answer %.0f ms, rss %.0f"
                + " -> %.0f KiB%n",
            i, r[0], r[2], r[3], r[4], r[5], r[6]);
      }
      double cold = SnapshotBench.median(s[0]);
      double answerCold = SnapshotBench.median(s[1]);
      double restore = SnapshotBench.median(s[3]);
      double answer = SnapshotBench.median(s[4]);
      double rss = SnapshotBench.median(s[5]);
      double after = SnapshotBench.median(s[6]);
      System.out.printf(
          "LINUX-SNAPSHOT-BENCH %d MiB, medians of %d: cold boot to %s %.0f ms (shell answers at"
              + " %.0f ms); suspend %.0f ms; MicroVm.restore %.1f ms; restore to the shell's answer"
              + " %.0f ms (ratio to the cold boot to %s %.3f, to the cold shell's answer %.3f);"
              + " guest memory resident %.0f KiB before suspend, %.0f KiB after restore (ratio"
              + " %.3f)%n",
          mib,
          n,
          guest.marker(),
          cold,
          answerCold,
          SnapshotBench.median(s[2]),
          restore,
          answer,
          guest.marker(),
          answer / cold,
          answer / answerCold,
          rss,
          after,
          after / rss);
    } finally {
      try (Stream<Path> files = Files.walk(work)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /**
   * One round: cold ms (to the marker), cold ms to the shell's answer, suspend ms, restore ms (the
   * VM built), restore ms to the shell's answer, resident KiB before suspend and after restore.
   */
  private static double[] round(TestGuest guest, long mib, Path dir) throws Exception {
    Files.createDirectories(dir);
    Path rootfs =
        Files.copy(guest.rootfs(), dir.resolve("rootfs.ext4"), StandardCopyOption.REPLACE_EXISTING);
    VmConfig config =
        VmConfig.of(
                "linux-bench", 1, mib, new BootSource(guest.vmlinux(), Optional.empty(), CMDLINE))
            .withDevices(
                VmDevices.NONE
                    .withDrive(DriveConfig.of("rootfs", rootfs, false))
                    .withRng(RngConfig.UNLIMITED));
    Path snap = dir.resolve("snap");
    double[] r = new double[7];
    long t0 = System.nanoTime();
    try (MicroVm vm = MicroVm.create(config, null)) {
      vm.start();
      await(vm, guest.marker());
      r[0] = ms(t0);
      answer(vm, 1);
      r[1] = ms(t0);
      Thread.sleep(200);
      r[5] = SnapshotBench.residentKiB(vm);
      long t1 = System.nanoTime();
      vm.pause();
      vm.snapshot(snap);
      r[2] = ms(t1);
    }
    t0 = System.nanoTime();
    try (MicroVm vm = MicroVm.restore(snap, config, null)) {
      r[3] = ms(t0);
      vm.start();
      answer(vm, 2);
      r[4] = ms(t0);
      Thread.sleep(200);
      r[6] = SnapshotBench.residentKiB(vm);
    }
    return r;
  }

  /**
   * Types a line whose output differs from its echo ({@code echo A$((k+40))Z}) and waits for the
   * output: the shell ran it.
   */
  private static void answer(MicroVm vm, int k) throws InterruptedException {
    byte[] line = ("echo A$((" + k + "+40))Z\n").getBytes(StandardCharsets.US_ASCII);
    int off = 0;
    while (off < line.length) {
      off += vm.serial().enqueueInput(Arrays.copyOfRange(line, off, line.length));
      Thread.onSpinWait();
    }
    await(vm, "A" + (k + 40) + "Z");
  }

  private static void await(MicroVm vm, String text) throws InterruptedException {
    long deadline = System.nanoTime() + 300_000_000_000L;
    while (!vm.console().text().contains(text)) {
      if (System.nanoTime() > deadline || vm.state() == MicroVm.State.EXITED) {
        throw new IllegalStateException(
            "no '" + text + "' on the console:\n" + vm.console().text());
      }
      Thread.sleep(1);
    }
  }

  private static double ms(long t0) {
    return (System.nanoTime() - t0) / 1e6;
  }
}
