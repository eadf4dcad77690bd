package dev.hearth.agent.bench;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * This process's resources at one moment, in bytes where they are sizes: live heap after GC,
 * committed heap, the JVM's own non-heap (JIT code, metaspace: shared by all VMs), RSS, the
 * resident part of guest RAM (mappings exactly the guests' size), platform threads, open fds,
 * memory mappings, and CPU time so far.
 */
record ProcessStats(
    long liveHeap,
    long committedHeap,
    long jvmNonHeap,
    long rss,
    long guestResident,
    long threads,
    long fds,
    long mappings,
    long cpuNanos) {

  static ProcessStats now(int guestMiB) throws InterruptedException, IOException {
    long live = heapAfterGc();
    return new ProcessStats(
        live,
        ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted(),
        ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage().getCommitted(),
        statusKb("VmRSS:") * 1024,
        guestResidentBytes(guestMiB),
        statusKb("Threads:"),
        count(Path.of("/proc/self/fd")),
        mappingsNow(),
        processCpuNanos());
  }

  /** The process's memory mappings (VMAs) now. */
  static int mappingsNow() {
    try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
      return (int) lines.count();
    } catch (IOException e) {
      return -1;
    }
  }

  /** CPU time of this JVM (the agent and the bench's own client). */
  static long processCpuNanos() {
    return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** The process's OS threads by name (as the kernel has it: 15 characters), digits shown as #. */
  static java.util.Map<String, Long> threadsByName() throws IOException {
    java.util.Map<String, Long> out = new java.util.TreeMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path t : tasks.toList()) {
        try {
          String name = Files.readString(t.resolve("comm")).trim().replaceAll("[0-9]+", "#");
          out.merge(name, 1L, Long::sum);
        } catch (IOException gone) {
          // the thread ended meanwhile
        }
      }
    }
    return out;
  }

  /** The host's load average over the last minute, and its runnable/total tasks. */
  static String loadAverage() throws IOException {
    return Files.readString(Path.of("/proc/loadavg")).trim();
  }

  private static long count(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.count();
    }
  }

  /** Sums the Rss of every mapping whose size is exactly a guest's RAM. */
  private static long guestResidentBytes(int guestMiB) throws IOException {
    long total = 0;
    boolean guestMapping = false;
    for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
      if (line.startsWith("Size:")) {
        guestMapping = kb(line) == guestMiB * 1024L;
      } else if (guestMapping && line.startsWith("Rss:")) {
        total += kb(line) * 1024;
      }
    }
    return total;
  }

  private static long kb(String line) {
    return Long.parseLong(line.replaceAll("[^0-9]", ""));
  }

  private static long statusKb(String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(field)) {
        return kb(line);
      }
    }
    return -1;
  }

  private static long heapAfterGc() throws InterruptedException {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return rt.totalMemory() - rt.freeMemory();
  }
}
