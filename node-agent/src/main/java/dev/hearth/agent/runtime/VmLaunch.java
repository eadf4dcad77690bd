package dev.hearth.agent.runtime;

import dev.hearth.agent.metrics.VmMeters;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Everything needed to boot one VM, with images already on local disk and taps already created.
 *
 * @param id {@code namespace/name}, for logs and thread names
 * @param cmdline the arguments the agent generates (console, root, ip=); the runtime adds its
 *     device arguments (virtio_mmio.device=) after them, then {@code extraCmdline}
 * @param extraCmdline the user's arguments from the spec, last so they can override
 */
public record VmLaunch(
    String id,
    int vcpus,
    int memoryMiB,
    Path kernel,
    Optional<Path> initrd,
    String cmdline,
    String extraCmdline,
    List<Disk> disks,
    List<Nic> nics,
    OptionalLong vsockCid,
    Limits limits,
    OutputStream console,
    VmMeters meters) {

  public VmLaunch {
    disks = List.copyOf(disks);
    nics = List.copyOf(nics);
  }

  /** A virtio-blk disk; the first is the root disk when the VM has one. */
  public record Disk(String name, Path path, boolean readOnly, Optional<String> serial) {}

  /** A virtio-net interface backed by an existing tap. */
  public record Nic(String name, String tap, String mac) {}

  /** A Firecracker token bucket: size tokens refilled over refillTimeMs, plus a one-time burst. */
  public record Bucket(long size, long refillTimeMs, long oneTimeBurst) {}

  /** One device's limiter; an empty bucket means unlimited. */
  public record RateLimit(Optional<Bucket> bandwidth, Optional<Bucket> ops) {
    public static final RateLimit NONE = new RateLimit(Optional.empty(), Optional.empty());
  }

  /**
   * Every rate limit of a VM, the part of a spec that applies live. Keys: disk name; interface name
   * for rx and tx. A device without an entry is unlimited.
   */
  public record Limits(
      Map<String, RateLimit> disks, Map<String, RateLimit> rx, Map<String, RateLimit> tx) {
    public static final Limits NONE = new Limits(Map.of(), Map.of(), Map.of());

    public Limits {
      disks = Map.copyOf(disks);
      rx = Map.copyOf(rx);
      tx = Map.copyOf(tx);
    }
  }
}
