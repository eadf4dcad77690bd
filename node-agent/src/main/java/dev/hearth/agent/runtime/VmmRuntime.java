package dev.hearth.agent.runtime;

import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.api.v1alpha1.MicroVMLimits;
import dev.hearth.vmm.config.BootSource;
import dev.hearth.vmm.config.ConfigException;
import dev.hearth.vmm.config.DriveConfig;
import dev.hearth.vmm.config.NetInterfaceConfig;
import dev.hearth.vmm.config.SeccompMode;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.config.VmDevices;
import dev.hearth.vmm.config.VsockDeviceConfig;
import dev.hearth.vmm.devices.virtio.net.MacAddress;
import dev.hearth.vmm.kvm.KvmException;
import dev.hearth.vmm.loader.LoaderException;
import dev.hearth.vmm.ratelimit.LimiterId;
import dev.hearth.vmm.ratelimit.RateLimitException;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import dev.hearth.vmm.ratelimit.TokenBucketConfig;
import dev.hearth.vmm.snapshot.SnapshotException;
import dev.hearth.vmm.sys.Errno;
import dev.hearth.vmm.sys.SysException;
import dev.hearth.vmm.vm.ExitReason;
import dev.hearth.vmm.vm.MicroVm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * The embedded VMM ({@link MicroVm}) behind {@link VmRuntime}: one MicroVm per VM, in this JVM.
 *
 * <p>It attaches {@link VmLaunch#disks()} as virtio-blk drives (in order, so the first is {@code
 * /dev/vda}), {@link VmLaunch#nics()} as virtio-net interfaces on their taps (opened by name), and
 * a vsock device whose host socket is {@code vsockPath(id)} under {@code vsockDir}, one per VM
 * (guest connections to port P reach {@code <that>_P}); {@link RunningVm#updateLimits} changes
 * their rate limiters live.
 */
public final class VmmRuntime implements VmRuntime {
  // How often a running VM's counters reach its metrics (Prometheus scrapes every 15-60 s).
  static final Duration METERS_INTERVAL = Duration.ofSeconds(5);

  /** Where vsock sockets go unless the agent says otherwise. */
  public static final Path DEFAULT_VSOCK_DIR = Path.of("/run/hearth/vsock");

  // What the CRD promises; VmmLimitsTest checks that they fit in the VMM's virtio-mmio slots.
  static final int MAX_DRIVES = MicroVMLimits.MAX_DISKS;
  static final int MAX_NICS = MicroVMLimits.MAX_NICS;

  private final Path vsockDir;
  private final SeccompMode seccomp;

  /** A runtime with vsock sockets under {@link #DEFAULT_VSOCK_DIR}. */
  public VmmRuntime() {
    this(DEFAULT_VSOCK_DIR);
  }

  /** A runtime with vsock sockets under {@code vsockDir} (made when a VM first needs it). */
  public VmmRuntime(Path vsockDir) {
    this(vsockDir, SeccompMode.ENFORCE);
  }

  /**
   * A runtime with vsock sockets under {@code vsockDir} whose VMs' vCPU and device threads run
   * under their seccomp filters as {@code seccomp} says ({@link SeccompMode#ENFORCE} normally).
   */
  public VmmRuntime(Path vsockDir, SeccompMode seccomp) {
    this.vsockDir = vsockDir;
    this.seccomp = java.util.Objects.requireNonNull(seccomp, "seccomp");
  }

  /** This runtime with {@code mode} for its VMs' seccomp filters. */
  public VmmRuntime withSeccomp(SeccompMode mode) {
    return new VmmRuntime(vsockDir, mode);
  }

  @Override
  public Capabilities capabilities() {
    return new Capabilities(VmConfig.MAX_VCPUS, true, true, MAX_DRIVES, MAX_NICS);
  }

  /**
   * The vsock socket of the VM {@code id}: a readable prefix of its name, then 128 bits of the
   * SHA-256 of the whole id, so two VMs never share a socket (whatever their names), within the
   * Unix socket address limit ({@link VsockDeviceConfig#MAX_UDS_PATH}).
   */
  Path vsockPath(String id) {
    String hash = HexFormat.of().formatHex(sha256(id), 0, 16);
    int room =
        VsockDeviceConfig.MAX_UDS_PATH
            - vsockDir.resolve("x").toString().getBytes(StandardCharsets.UTF_8).length
            + 1
            - ("-" + hash + ".sock").length();
    String name = vmmName(id);
    String prefix = name.substring(0, Math.max(0, Math.min(Math.min(24, room), name.length())));
    return vsockDir.resolve((prefix.isEmpty() ? "" : prefix + "-") + hash + ".sock");
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** The VMM devices for {@code launch}: its disks, taps and vsock, with their limits. */
  VmDevices devices(VmLaunch launch) throws IOException {
    VmDevices devices = VmDevices.NONE;
    for (VmLaunch.Disk d : launch.disks()) {
      devices =
          devices.withDrive(
              new DriveConfig(
                  d.name(),
                  d.path(),
                  d.readOnly(),
                  d.serial().orElse(""),
                  limiter(launch.limits().disks().get(d.name()))));
    }
    for (VmLaunch.Nic n : launch.nics()) {
      MacAddress mac;
      try {
        mac = MacAddress.parse(n.mac());
      } catch (IllegalArgumentException e) {
        throw new ConfigException("netInterfaces[" + n.name() + "].mac", e.getMessage());
      }
      devices =
          devices.withNetInterface(
              new NetInterfaceConfig(
                  n.name(),
                  n.tap(),
                  mac,
                  limiter(launch.limits().rx().get(n.name())),
                  limiter(launch.limits().tx().get(n.name()))));
    }
    if (launch.vsockCid().isPresent()) {
      Files.createDirectories(vsockDir);
      devices =
          devices.withVsock(
              new VsockDeviceConfig(launch.vsockCid().getAsLong(), vsockPath(launch.id())));
    }
    return devices;
  }

  /** The launch's limit for the VMM limiter {@code id}; null for none. */
  static VmLaunch.RateLimit limitFor(LimiterId id, VmLaunch.Limits limits) {
    return switch (id.traffic()) {
      case RX -> limits.rx().get(id.device());
      case TX -> limits.tx().get(id.device());
      case ALL -> limits.disks().get(id.device());
    };
  }

  /** A spec's limiter as the VMM's; none (or an absent bucket) is unlimited. */
  static RateLimiterConfig limiter(VmLaunch.RateLimit limit) {
    if (limit == null) {
      return RateLimiterConfig.UNLIMITED;
    }
    return new RateLimiterConfig(bucket(limit.bandwidth()), bucket(limit.ops()));
  }

  private static TokenBucketConfig bucket(Optional<VmLaunch.Bucket> b) {
    return b.map(x -> new TokenBucketConfig(x.size(), x.oneTimeBurst(), x.refillTimeMs()))
        .orElse(TokenBucketConfig.DISABLED);
  }

  /**
   * The VMM's configuration for {@code launch}: the one translation from a launch to the VMM, for
   * the agent's VMs and {@code hearth run}'s alike.
   *
   * @throws ConfigException or RateLimitException naming the VMM field ({@code
   *     drives[data].serial}) when the VMM refuses a value
   * @throws IOException when the vsock directory cannot be made
   */
  public VmConfig config(VmLaunch launch) throws IOException {
    String cmdline = (launch.cmdline() + " " + launch.extraCmdline()).strip();
    // The launch's console stream keeps the output (the agent's console buffer, hearth run's
    // terminal): the VMM keeps none, so that no console is held twice.
    return new VmConfig(
            vmmName(launch.id()),
            launch.vcpus(),
            launch.memoryMiB(),
            new BootSource(launch.kernel(), launch.initrd(), cmdline),
            VmConfig.NO_CONSOLE_BUFFER)
        .withDevices(devices(launch))
        .withSeccomp(seccomp);
  }

  @Override
  public RunningVm start(VmLaunch launch) throws VmStartException {
    return run(launch, config -> MicroVm.create(config, launch.console()));
  }

  @Override
  public RunningVm restore(Path dir, VmLaunch launch) throws VmStartException {
    try {
      return run(launch, config -> MicroVm.restore(dir, config, launch.console()));
    } catch (VmStartException e) {
      if (e.getCause() instanceof SnapshotException) {
        throw new VmStartException(HearthApi.Reasons.RESTORE_FAILED, e.getMessage(), e.getCause());
      }
      throw e;
    }
  }

  /** Makes the VM for {@code launch} with {@code make} and starts its vCPUs. */
  private RunningVm run(VmLaunch launch, java.util.function.Function<VmConfig, MicroVm> make)
      throws VmStartException {
    VmConfig config;
    try {
      config = config(launch);
    } catch (ConfigException | RateLimitException e) {
      throw new VmStartException(HearthApi.Reasons.INVALID_VM_CONFIG, e.getMessage(), e);
    } catch (IOException e) {
      throw new VmStartException(
          HearthApi.Reasons.VM_CREATE_FAILED,
          "cannot make the vsock directory " + vsockDir + ": " + e,
          e);
    }
    MicroVm vm;
    try {
      vm = make.apply(config);
    } catch (RuntimeException e) {
      // The VMM released what it had made; the VM fails instead of staying Starting.
      throw createFailure(e);
    }
    try {
      vm.start();
    } catch (RuntimeException e) {
      vm.close();
      throw outOfFds(e)
          ? new VmStartException(HearthApi.Reasons.OUT_OF_FILE_DESCRIPTORS, e.getMessage(), e)
          : new VmStartException(HearthApi.Reasons.VM_START_FAILED, e.getMessage(), e);
    }
    return new VmmRunningVm(vm, new VmCountersPublisher(launch.meters()));
  }

  private static VmStartException createFailure(RuntimeException e) {
    String reason =
        switch (e) {
          case RuntimeException r when outOfFds(r) -> HearthApi.Reasons.OUT_OF_FILE_DESCRIPTORS;
          case KvmException k -> HearthApi.Reasons.KVM_UNAVAILABLE;
          case LoaderException l -> HearthApi.Reasons.KERNEL_LOAD_FAILED;
          default -> HearthApi.Reasons.VM_CREATE_FAILED;
        };
    return new VmStartException(reason, String.valueOf(e.getMessage()), e);
  }

  /** Whether the process (EMFILE) or the system (ENFILE) ran out of file descriptors. */
  static boolean outOfFds(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SysException s && (s.errno() == Errno.EMFILE || s.errno() == Errno.ENFILE)) {
        return true;
      }
    }
    return false;
  }

  /** VmConfig names allow [A-Za-z0-9._-]{1,63}; namespace/name becomes namespace.name. */
  static String vmmName(String id) {
    String n = id.replace('/', '.').replaceAll("[^A-Za-z0-9._-]", "-");
    return n.length() > 63 ? n.substring(0, 63) : n;
  }

  /** ExitReason.EMULATION_FAILURE becomes EmulationFailure, and so on. */
  static String camel(ExitReason reason) {
    StringBuilder s = new StringBuilder();
    for (String part : reason.name().split("_")) {
      s.append(part.charAt(0)).append(part.substring(1).toLowerCase(Locale.ROOT));
    }
    return s.toString();
  }
}
