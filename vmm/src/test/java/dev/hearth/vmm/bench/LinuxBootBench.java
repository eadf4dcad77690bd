package dev.hearth.vmm.bench;

import dev.hearth.vmm.config.BootSource;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.vm.MicroVm;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Hearth's VMM against QEMU ({@code -M microvm -accel kvm}) on the same KVM, booting the same Linux
 * kernel and initramfs (the test guest of {@code vmm/guest/build-guest.sh}) to the same marker,
 * rounds interleaved so that both see the same conditions. Not a test: the nested-KVM harness runs
 * it where the host's KVM cannot run Linux; see {@code vmm/src/bench/run-linux-bench.sh}.
 *
 * <p>Per VMM and kernel format, medians of: launch to the first console byte (for Hearth, config to
 * that byte, in process; for QEMU, process start to that byte), launch to the init's marker, and
 * host RSS added by the VM once its init is up (guest pages it touched included, for both).
 *
 * <p>Arguments: the guest's {@code paths.env}, rounds, vCPUs, and a qemu-system-x86_64 path.
 */
public final class LinuxBootBench {
  private static final String MARKER = "HEARTH-GUEST-READY";

  private record Sample(double firstByteMs, double markerMs, double setupMs, long rssBytes) {}

  public static void main(String[] args) throws Exception {
    Properties guest = new Properties();
    try (Reader r = Files.newBufferedReader(Path.of(args[0]))) {
      guest.load(r);
    }
    int rounds = Integer.parseInt(args[1]);
    int vcpus = Integer.parseInt(args[2]);
    String qemu = args[3];
    Path initrd = Path.of(guest.getProperty("HEARTH_GUEST_INITRAMFS"));
    String cmdline =
        "console=ttyS0 reboot=k panic=-1 quiet hearth.end=halt hearth.check=cpus hearth.cpus="
            + vcpus;
    System.out.printf(
        "Linux boot, Hearth vs QEMU microvm on the same KVM: %d rounds, %d vCPU(s), 128 MiB%n",
        rounds, vcpus);
    for (String format : List.of("vmlinux", "bzImage")) {
      Path kernel =
          Path.of(guest.getProperty("HEARTH_GUEST_" + format.toUpperCase(java.util.Locale.ROOT)));
      System.out.println("warm-up " + format);
      hearth(kernel, initrd, cmdline, vcpus); // warm-up: classes, JIT, KVM's caches
      List<Sample> h = new ArrayList<>();
      List<Sample> q = new ArrayList<>();
      for (int i = 0; i < rounds; i++) {
        h.add(hearth(kernel, initrd, cmdline, vcpus));
        q.add(qemu(qemu, kernel, initrd, cmdline, vcpus));
      }
      report(format, h, q);
    }
  }

  private static Sample hearth(Path kernel, Path initrd, String cmdline, int vcpus)
      throws Exception {
    MarkerSink sink = new MarkerSink();
    long rss0 = HostStats.rssBytes(ProcessHandle.current().pid());
    long t0 = System.nanoTime();
    sink.start = t0;
    VmConfig config =
        VmConfig.of("bench", vcpus, 128, new BootSource(kernel, Optional.of(initrd), cmdline));
    try (MicroVm vm = MicroVm.create(config, sink)) {
      vm.start();
      double setup = (System.nanoTime() - t0) / 1e6;
      if (!sink.marker.await(45, TimeUnit.SECONDS)) {
        throw new IOException("Hearth's guest printed no marker: " + vm.console().text());
      }
      long rss = HostStats.rssBytes(ProcessHandle.current().pid()) - rss0;
      vm.stop();
      vm.waitForExit(Duration.ofSeconds(30));
      return new Sample(sink.firstByteMs, sink.markerMs, setup, rss);
    }
  }

  private static Sample qemu(String qemu, Path kernel, Path initrd, String cmdline, int vcpus)
      throws Exception {
    List<String> cmd =
        List.of(
            qemu,
            "-M",
            "microvm,x-option-roms=off,acpi=off,ioapic2=off,isa-serial=on,rtc=off",
            "-accel",
            "kvm",
            "-cpu",
            "host",
            "-m",
            "128",
            "-smp",
            Integer.toString(vcpus),
            "-nographic",
            "-nodefaults",
            "-no-user-config",
            "-serial",
            "stdio",
            "-no-reboot",
            "-device",
            "i8042",
            "-kernel",
            kernel.toString(),
            "-initrd",
            initrd.toString(),
            "-append",
            cmdline);
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      InputStream in = p.getInputStream();
      StringBuilder seen = new StringBuilder();
      double first = Double.NaN;
      int c;
      while ((c = in.read()) >= 0) {
        if (Double.isNaN(first)) {
          first = (System.nanoTime() - t0) / 1e6;
        }
        seen.append((char) c);
        if (seen.length() >= MARKER.length() && seen.indexOf(MARKER, seen.length() - 40) >= 0) {
          double marker = (System.nanoTime() - t0) / 1e6;
          return new Sample(first, marker, Double.NaN, HostStats.rssBytes(p.pid()));
        }
      }
      throw new IOException("QEMU ended before its guest's marker: " + seen);
    } finally {
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** Records when the first console byte and the marker go by. */
  private static final class MarkerSink extends OutputStream {
    final CountDownLatch marker = new CountDownLatch(1);
    volatile long start;
    volatile double firstByteMs = Double.NaN;
    volatile double markerMs = Double.NaN;
    private final StringBuilder tail = new StringBuilder();

    @Override
    public synchronized void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      long now = System.nanoTime();
      if (len > 0 && Double.isNaN(firstByteMs)) {
        firstByteMs = (now - start) / 1e6;
      }
      for (int i = 0; i < len; i++) {
        tail.append((char) b[off + i]);
      }
      if (tail.length() > 200) {
        tail.delete(0, tail.length() - 100);
      }
      if (marker.getCount() > 0 && tail.indexOf(MARKER) >= 0) {
        markerMs = (now - start) / 1e6;
        marker.countDown();
      }
    }
  }

  private static void report(String format, List<Sample> h, List<Sample> q) {
    double hFirst = HostStats.median(h.stream().mapToDouble(Sample::firstByteMs).toArray());
    double qFirst = HostStats.median(q.stream().mapToDouble(Sample::firstByteMs).toArray());
    double hMarker = HostStats.median(h.stream().mapToDouble(Sample::markerMs).toArray());
    double qMarker = HostStats.median(q.stream().mapToDouble(Sample::markerMs).toArray());
    double hRss = HostStats.median(h.stream().mapToDouble(s -> s.rssBytes() / 1048576.0).toArray());
    double qRss = HostStats.median(q.stream().mapToDouble(s -> s.rssBytes() / 1048576.0).toArray());
    double setup = HostStats.median(h.stream().mapToDouble(Sample::setupMs).toArray());
    System.out.printf(
        "%n%s (medians of %d)              Hearth        QEMU   Hearth/QEMU%n", format, h.size());
    System.out.printf(
        "  launch to first console byte %9.1f ms %9.1f ms %8.2f%n",
        hFirst, qFirst, hFirst / qFirst);
    System.out.printf(
        "  launch to init marker        %9.1f ms %9.1f ms %8.2f%n",
        hMarker, qMarker, hMarker / qMarker);
    System.out.printf(
        "  host RSS with init up        %9.1f MiB%8.1f MiB%8.2f%n", hRss, qRss, hRss / qRss);
    System.out.printf(
        "  Hearth VMM set-up (create + start, config to vCPUs running): %.1f ms%n", setup);
  }
}
