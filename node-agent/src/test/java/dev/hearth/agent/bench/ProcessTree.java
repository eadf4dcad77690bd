package dev.hearth.agent.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * This JVM and every process under it (its VMM processes) at one moment, summed: CPU time, PSS
 * (resident memory with each shared page divided among the processes that map it: the JVM's own
 * code and class data are mapped by all of them), threads, open fds, memory mappings; and how many
 * processes. A process that ends meanwhile counts for what could be read of it.
 */
record ProcessTree(
    int processes,
    long cpuNanos,
    long pss,
    long threads,
    long fds,
    long mappings,
    long maxMappings) {
  // USER_HZ: the unit of utime and stime in /proc/<pid>/stat on Linux.
  private static final long TICK_NANOS = 10_000_000L;

  static ProcessTree now() {
    List<Long> pids =
        Stream.concat(Stream.of(ProcessHandle.current()), ProcessHandle.current().descendants())
            .map(ProcessHandle::pid)
            .toList();
    long cpu = 0;
    long pss = 0;
    long threads = 0;
    long fds = 0;
    long maps = 0;
    long maxMaps = 0;
    for (long pid : pids) {
      Path proc = Path.of("/proc", Long.toString(pid));
      try {
        cpu += cpuNanos(proc);
        for (String line : Files.readAllLines(proc.resolve("smaps_rollup"))) {
          if (line.startsWith("Pss:")) {
            pss += Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
          }
        }
        for (String line : Files.readAllLines(proc.resolve("status"))) {
          if (line.startsWith("Threads:")) {
            threads += Long.parseLong(line.replaceAll("[^0-9]", ""));
          }
        }
        try (Stream<Path> s = Files.list(proc.resolve("fd"))) {
          fds += s.count();
        }
        long m;
        try (Stream<String> lines = Files.lines(proc.resolve("maps"))) {
          m = lines.count();
        }
        maps += m;
        maxMaps = Math.max(maxMaps, m);
      } catch (IOException | RuntimeException gone) {
        // the process ended while it was read
      }
    }
    return new ProcessTree(pids.size(), cpu, pss, threads, fds, maps, maxMaps);
  }

  /** CPU time of this JVM and every process under it, from /proc (10 ms resolution). */
  static long cpuNanosNow() {
    return cpuNanosNow(p -> true);
  }

  /**
   * CPU time of this JVM and of the processes {@code pids} (its VMM processes, say): one file read
   * each, cheap enough to call per VM. Listing descendants instead walks every task of the host in
   * the kernel, which with thousands of vCPU threads costs more than what it measures.
   */
  static long cpuNanosOf(List<Long> pids) {
    long cpu = ProcessStats.processCpuNanos();
    for (long pid : pids) {
      try {
        cpu += cpuNanos(Path.of("/proc", Long.toString(pid)));
      } catch (IOException | RuntimeException gone) {
        // ended meanwhile
      }
    }
    return cpu;
  }

  private static long cpuNanosNow(java.util.function.Predicate<ProcessHandle> children) {
    long cpu = 0;
    for (ProcessHandle p :
        Stream.concat(
                Stream.of(ProcessHandle.current()),
                ProcessHandle.current().descendants().filter(children))
            .toList()) {
      try {
        cpu += cpuNanos(Path.of("/proc", Long.toString(p.pid())));
      } catch (IOException | RuntimeException gone) {
        // ended meanwhile
      }
    }
    return cpu;
  }

  private static long cpuNanos(Path proc) throws IOException {
    String stat = Files.readString(proc.resolve("stat"));
    // Fields after the command (which may hold spaces) start at its closing parenthesis.
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * TICK_NANOS;
  }
}
