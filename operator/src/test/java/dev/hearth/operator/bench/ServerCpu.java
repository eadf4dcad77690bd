package dev.hearth.operator.bench;

import dev.hearth.testkit.ControlPlane;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The CPU time a control plane of the bench's own has used (etcd and kube-apiserver, from {@code
 * /proc/PID/stat}). On a shared machine the wall-clock time of a run follows whatever else runs
 * there; the API server's own CPU per VM does not, so it compares runs, and the operator's run with
 * the bare writes', by what they cost the server.
 */
record ServerCpu(Path runDir) {
  /** Linux reports utime and stime in USER_HZ ticks, 100 per second on every current platform. */
  private static final long NANOS_PER_TICK = 10_000_000L;

  static ServerCpu of(ControlPlane plane) {
    return new ServerCpu(Path.of(plane.facts().get("LOGS")).resolveSibling("run"));
  }

  /** CPU time of etcd and kube-apiserver so far, in nanoseconds. */
  long nanos() {
    long ticks = 0;
    try {
      for (String process : List.of("etcd", "kube-apiserver")) {
        String pid = Files.readString(runDir.resolve(process + ".pid")).strip();
        String stat = Files.readString(Path.of("/proc", pid, "stat"));
        // After the command name, in parentheses: state is field 3, utime 14 and stime 15.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the control plane's CPU time", e);
    }
    return ticks * NANOS_PER_TICK;
  }
}
