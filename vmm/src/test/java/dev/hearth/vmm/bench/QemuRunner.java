package dev.hearth.vmm.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * QEMU's microvm machine on KVM, booting the same PVH-capable guest ({@code bench.elf}), as the
 * baseline Hearth is compared with.
 */
final class QemuRunner {
  private final String qemu;
  private final Path guest;

  QemuRunner(String qemu, Path guest) {
    this.qemu = qemu;
    this.guest = guest;
  }

  Process launch(String cmdline) throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                qemu,
                "-M",
                "microvm,x-option-roms=off,pit=on,pic=off,isa-serial=on,rtc=off",
                "-accel",
                "kvm",
                "-cpu",
                "host",
                "-m",
                "8",
                "-smp",
                "1",
                "-nographic",
                "-nodefaults",
                "-no-user-config",
                "-serial",
                "stdio",
                "-no-reboot",
                "-device",
                "isa-debug-exit,iobase=0xf4,iosize=4",
                "-kernel",
                guest.toString(),
                "-append",
                cmdline));
    return new ProcessBuilder(cmd).redirectErrorStream(true).start();
  }

  /** Launch to first console byte, in ms; the process is left running. */
  static double awaitFirstByte(Process p, long t0) throws IOException {
    InputStream in = p.getInputStream();
    if (in.read() < 0) {
      throw new IOException("QEMU printed nothing");
    }
    return (System.nanoTime() - t0) / 1e6;
  }

  /** Reads until {@code marker} appears in the output. */
  static void awaitText(Process p, String marker) throws IOException {
    InputStream in = p.getInputStream();
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      sb.append((char) c);
      if (sb.indexOf(marker) >= 0) {
        return;
      }
    }
    throw new IOException("QEMU ended before printing " + marker + ": " + sb);
  }

  static void drainAndWait(Process p) throws Exception {
    try {
      p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
    } catch (IOException closed) {
      // destroy() closes the streams; only the exit matters then.
    }
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("QEMU did not exit");
    }
  }

  static long rssBytes(Process p) throws IOException {
    return HostStats.rssBytes(p.pid());
  }

  /** CPU seconds used by reaped children of this process (utime + stime of /proc/self/stat). */
  static double childCpuSeconds() throws IOException {
    String stat = Files.readString(Path.of("/proc/self/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    // Fields after the command: state is index 0, so cutime is 13 and cstime 14.
    return (Long.parseLong(f[13]) + Long.parseLong(f[14])) / 100.0;
  }
}
