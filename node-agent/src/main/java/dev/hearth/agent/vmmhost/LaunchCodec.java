package dev.hearth.agent.vmmhost;

import dev.hearth.agent.metrics.VmMeters;
import dev.hearth.agent.runtime.GuestExit;
import dev.hearth.agent.runtime.VmLaunch;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Launches, limits and exits on the {@link Wire}. A launch travels without its console and meters:
 * the VMM process gives it ones that send {@link Wire.Op#CONSOLE} and {@link Wire.Op#METER} frames
 * back.
 */
final class LaunchCodec {
  // Far above what the CRD allows (MicroVMLimits), low enough that a bad frame cannot make much.
  private static final int MAX_DEVICES = 256;

  /** The longest message the agent takes from a VMM process into a status condition. */
  static final int MAX_MESSAGE = 4096;

  private LaunchCodec() {}

  static void write(Wire.Out out, VmLaunch l) {
    out.str(l.id()).i32(l.vcpus()).i32(l.memoryMiB()).str(l.kernel().toString());
    optional(out, l.initrd().map(Path::toString));
    out.str(l.cmdline()).str(l.extraCmdline());
    out.i32(l.disks().size());
    for (VmLaunch.Disk d : l.disks()) {
      out.str(d.name()).str(d.path().toString()).bool(d.readOnly());
      optional(out, d.serial());
    }
    out.i32(l.nics().size());
    for (VmLaunch.Nic n : l.nics()) {
      out.str(n.name()).str(n.tap()).str(n.mac());
    }
    out.bool(l.vsockCid().isPresent()).i64(l.vsockCid().orElse(0));
    write(out, l.limits());
  }

  static VmLaunch read(Wire.In in, OutputStream console, VmMeters meters) throws IOException {
    String id = in.str();
    int vcpus = in.i32();
    int memoryMiB = in.i32();
    Path kernel = Path.of(in.str());
    Optional<Path> initrd = optional(in).map(Path::of);
    String cmdline = in.str();
    String extra = in.str();
    List<VmLaunch.Disk> disks = new ArrayList<>();
    for (int i = in.count(MAX_DEVICES, 16, "disks"); i > 0; i--) {
      disks.add(new VmLaunch.Disk(in.str(), Path.of(in.str()), in.bool(), optional(in)));
    }
    List<VmLaunch.Nic> nics = new ArrayList<>();
    for (int i = in.count(MAX_DEVICES, 12, "nics"); i > 0; i--) {
      nics.add(new VmLaunch.Nic(in.str(), in.str(), in.str()));
    }
    boolean vsock = in.bool();
    long cid = in.i64();
    VmLaunch.Limits limits = readLimits(in);
    return new VmLaunch(
        id,
        vcpus,
        memoryMiB,
        kernel,
        initrd,
        cmdline,
        extra,
        disks,
        nics,
        vsock ? OptionalLong.of(cid) : OptionalLong.empty(),
        limits,
        console,
        meters);
  }

  static void write(Wire.Out out, VmLaunch.Limits limits) {
    for (Map<String, VmLaunch.RateLimit> m : List.of(limits.disks(), limits.rx(), limits.tx())) {
      out.i32(m.size());
      m.forEach(
          (device, limit) -> {
            out.str(device);
            bucket(out, limit.bandwidth());
            bucket(out, limit.ops());
          });
    }
  }

  static VmLaunch.Limits readLimits(Wire.In in) throws IOException {
    List<Map<String, VmLaunch.RateLimit>> maps = new ArrayList<>();
    for (int m = 0; m < 3; m++) {
      Map<String, VmLaunch.RateLimit> map = new HashMap<>();
      for (int i = in.count(MAX_DEVICES, 12, "limits"); i > 0; i--) {
        map.put(in.str(), new VmLaunch.RateLimit(bucket(in), bucket(in)));
      }
      maps.add(map);
    }
    return new VmLaunch.Limits(maps.get(0), maps.get(1), maps.get(2));
  }

  static void write(Wire.Out out, GuestExit e) {
    out.str(e.reason()).str(e.message()).bool(e.success());
    out.bool(e.exitCode().isPresent()).i32(e.exitCode().orElse(0));
    out.bool(e.signal().isPresent()).i32(e.signal().orElse(0));
  }

  /** An exit as a VMM process reports it, its message cut to {@link #MAX_MESSAGE}. */
  static GuestExit readExit(Wire.In in) throws IOException {
    String reason = bounded(in.str());
    String message = bounded(in.str());
    boolean success = in.bool();
    boolean hasCode = in.bool();
    int code = in.i32();
    boolean hasSignal = in.bool();
    int signal = in.i32();
    return new GuestExit(
        reason,
        message,
        success,
        hasCode ? Optional.of(code) : Optional.empty(),
        hasSignal ? Optional.of(signal) : Optional.empty());
  }

  /** {@code s} cut to {@link #MAX_MESSAGE} characters. */
  static String bounded(String s) {
    return s.length() <= MAX_MESSAGE ? s : s.substring(0, MAX_MESSAGE) + "...";
  }

  private static void bucket(Wire.Out out, Optional<VmLaunch.Bucket> b) {
    out.bool(b.isPresent());
    VmLaunch.Bucket x = b.orElse(new VmLaunch.Bucket(0, 0, 0));
    out.i64(x.size()).i64(x.refillTimeMs()).i64(x.oneTimeBurst());
  }

  private static Optional<VmLaunch.Bucket> bucket(Wire.In in) throws IOException {
    boolean present = in.bool();
    VmLaunch.Bucket b = new VmLaunch.Bucket(in.i64(), in.i64(), in.i64());
    return present ? Optional.of(b) : Optional.empty();
  }

  private static void optional(Wire.Out out, Optional<String> s) {
    out.bool(s.isPresent()).str(s.orElse(""));
  }

  private static Optional<String> optional(Wire.In in) throws IOException {
    boolean present = in.bool();
    String s = in.str();
    return present ? Optional.of(s) : Optional.empty();
  }
}
