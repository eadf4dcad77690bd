package dev.hearth.vmm.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** What the benchmarks read from the host, and how they summarise samples. */
final class HostStats {
  private static final int CLOCK_PROCESS_CPUTIME_ID = 2;

  @SuppressWarnings("restricted") // a libc call, as LibC makes
  private static final MethodHandle CLOCK_GETTIME =
      Linker.nativeLinker()
          .downcallHandle(
              Linker.nativeLinker().defaultLookup().find("clock_gettime").orElseThrow(),
              FunctionDescriptor.of(
                  ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));

  private static final MemorySegment TIMESPEC = Arena.global().allocate(16, 8);

  private HostStats() {}

  /**
   * CPU time of this whole process (every thread, user and system) in nanoseconds, to the
   * nanosecond: {@code clock_gettime(CLOCK_PROCESS_CPUTIME_ID)}. The JDK's {@code
   * getProcessCpuTime} counts whole 10 ms ticks here, too coarse for one VM.
   */
  static synchronized long processCpuNanos() {
    try {
      int r = (int) CLOCK_GETTIME.invokeExact(CLOCK_PROCESS_CPUTIME_ID, TIMESPEC);
      if (r != 0) {
        throw new IllegalStateException("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
      }
    } catch (Throwable t) {
      throw new IllegalStateException("clock_gettime failed: " + t, t);
    }
    return TIMESPEC.get(ValueLayout.JAVA_LONG, 0) * 1_000_000_000L
        + TIMESPEC.get(ValueLayout.JAVA_LONG, 8);
  }

  /** Resident set size of process {@code pid}, from {@code /proc/<pid>/status}. */
  static long rssBytes(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IOException("no VmRSS for pid " + pid);
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }
}
