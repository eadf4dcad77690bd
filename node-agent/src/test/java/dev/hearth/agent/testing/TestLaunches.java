package dev.hearth.agent.testing;

import dev.hearth.agent.metrics.VmMeters;
import dev.hearth.agent.runtime.VmLaunch;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** Launches for tests and benchmarks of a runtime: one vCPU, no devices, the serial console. */
public final class TestLaunches {
  private TestLaunches() {}

  /** {@code kernel} with {@code memoryMiB}, its console output to {@code console}. */
  public static VmLaunch plain(
      String id, Path kernel, int memoryMiB, OutputStream console, VmMeters meters) {
    return plain(id, kernel, memoryMiB, "", console, meters);
  }

  /** The same, with {@code extraCmdline} for the guest (its {@code key=value} switches). */
  public static VmLaunch plain(
      String id,
      Path kernel,
      int memoryMiB,
      String extraCmdline,
      OutputStream console,
      VmMeters meters) {
    return new VmLaunch(
        id,
        1,
        memoryMiB,
        kernel,
        Optional.empty(),
        "console=ttyS0",
        extraCmdline,
        List.of(),
        List.of(),
        OptionalLong.empty(),
        VmLaunch.Limits.NONE,
        console,
        meters);
  }
}
