package dev.hearth.agent.run;

import dev.hearth.agent.image.ImageCache;
import dev.hearth.agent.image.ImageException;
import dev.hearth.agent.image.ImageSource;
import dev.hearth.agent.image.WritableCopy;
import dev.hearth.vmm.config.BootSource;
import dev.hearth.vmm.config.ConfigException;
import dev.hearth.vmm.config.DriveConfig;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.config.VmDevices;
import dev.hearth.vmm.config.VsockDeviceConfig;
import dev.hearth.vmm.kvm.KvmException;
import dev.hearth.vmm.loader.LoaderException;
import dev.hearth.vmm.vm.MicroVm;
import dev.hearth.vmm.vm.VmException;
import dev.hearth.vmm.vm.VmExit;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Boots one planned VM on this machine: resolves its images, checks KVM, creates the VM, streams
 * the console to {@code console} and waits for the guest to end. Ctrl-C stops it cleanly.
 */
public final class LocalRunner {
  /** The device the VMM opens; the pre-check looks at the same one. */
  public static final Path KVM_DEVICE = Path.of("/dev/kvm");

  /** Exit status when the VM was stopped from the host (as for SIGINT). */
  public static final int STOPPED = 130;

  private static final Map<String, String> MANIFEST_FIELD =
      Map.of(
          "name", "metadata.name",
          "vcpus", "spec.vcpus",
          "memoryMiB", "spec.memoryMiB",
          "boot.kernel", "spec.kernel.source.path",
          "boot.initrd", "spec.initrd.path",
          "boot.cmdline", "spec.kernel.cmdline");

  private final ImageCache images;
  private final Path kvmDevice;
  private final PrintStream status;

  /**
   * @param images where URL images are fetched and cached
   * @param kvmDevice the KVM device to check before anything is created: {@link #KVM_DEVICE}, which
   *     the VMM opens, or a stand-in in tests
   * @param status where progress and the final line go (stderr)
   */
  public LocalRunner(ImageCache images, Path kvmDevice, PrintStream status) {
    this.images = images;
    this.kvmDevice = kvmDevice;
    this.status = status;
  }

  /** Runs {@code plan} to its end and returns the process exit status for how the guest ended. */
  public int run(LocalVmPlan plan, OutputStream console) throws RunException {
    Path kernel = resolve("spec.kernel.source", plan.kernel(), plan.name());
    Optional<Path> initrd = Optional.empty();
    if (plan.initrd().isPresent()) {
      initrd = Optional.of(resolve("spec.initrd", plan.initrd().get(), plan.name()));
    }
    checkKvm();
    Path work = null;
    try {
      if (!plan.disks().isEmpty() || plan.vsockCid().isPresent()) {
        work = Files.createTempDirectory("hearth-run-");
      }
      VmConfig config = config(plan, kernel, initrd, work);
      status.printf(
          "hearth: booting %s (%d vCPU, %d MiB) from %s%n",
          plan.name(), plan.vcpus(), plan.memoryMiB(), kernel);
      config
          .devices()
          .vsock()
          .ifPresent(
              v ->
                  status.printf(
                      "hearth: vsock socket %s (connect and send CONNECT <port>)%n", v.udsPath()));
      try (MicroVm vm = create(config, console)) {
        Thread stopOnCtrlC = Thread.ofPlatform().unstarted(() -> stopFromHost(vm));
        Runtime.getRuntime().addShutdownHook(stopOnCtrlC);
        vm.start();
        VmExit exit = vm.waitForExit();
        removeHook(stopOnCtrlC);
        console.flush();
        status.printf("%nhearth: %s ended: %s%s%n", plan.name(), summary(exit), bootTime(vm));
        return ExitStatus.of(exit.reason());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return STOPPED;
    } catch (IOException e) {
      throw new RunException("console: " + e.getMessage(), e);
    } finally {
      images.release(plan.name());
      deleteTree(work);
    }
  }

  /**
   * The VMM config for {@code plan}: its disks (writable ones as private copies under {@code
   * work}), {@code root=/dev/vda} before the user's arguments when it has a rootfs, and its vsock
   * socket in {@code work}.
   */
  VmConfig config(LocalVmPlan plan, Path kernel, Optional<Path> initrd, Path work)
      throws RunException {
    VmDevices devices = VmDevices.NONE;
    try {
      for (LocalVmPlan.Disk d : plan.disks()) {
        Path image = resolve(d.field() + ".source", d.source(), plan.name());
        Path path = image;
        if (!d.readOnly()) {
          path = work.resolve(d.name() + ".img");
          try {
            WritableCopy.create(image, path);
          } catch (ImageException e) {
            throw new ManifestException(d.field() + ": " + e.getMessage(), e);
          }
        }
        devices =
            devices.withDrive(
                new DriveConfig(d.name(), path, d.readOnly(), d.serial(), d.rateLimit()));
      }
      if (plan.vsockCid().isPresent()) {
        devices =
            devices.withVsock(
                new VsockDeviceConfig(plan.vsockCid().getAsLong(), work.resolve("vsock.sock")));
      }
      String cmdline = plan.cmdline();
      if (plan.hasRootfs()) {
        String root = "root=/dev/vda " + (plan.disks().getFirst().readOnly() ? "ro" : "rw");
        cmdline = (root + " " + cmdline).strip();
      }
      return VmConfig.of(
              plan.name(), plan.vcpus(), plan.memoryMiB(), new BootSource(kernel, initrd, cmdline))
          .withDevices(devices);
    } catch (ConfigException e) {
      throw new ManifestException(
          manifestField(plan, e.field()) + e.getMessage().substring(e.field().length()), e);
    }
  }

  /** The manifest field behind a VMM config field ({@code drives[data].path}: spec.drives[0]). */
  private static String manifestField(LocalVmPlan plan, String field) {
    for (LocalVmPlan.Disk d : plan.disks()) {
      String prefix = "drives[" + d.name() + "]";
      if (field.startsWith(prefix)) {
        return d.field() + field.substring(prefix.length());
      }
    }
    if (field.startsWith("vsock.")) {
      return "spec.vsock";
    }
    return MANIFEST_FIELD.getOrDefault(field, field);
  }

  private static void deleteTree(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // Best effort: a leftover temp directory is harmless and the OS cleans /tmp.
    }
  }

  private static MicroVm create(VmConfig config, OutputStream console) throws RunException {
    try {
      return MicroVm.create(config, console);
    } catch (LoaderException e) {
      throw new ManifestException("spec.kernel.source: " + e.getMessage(), e);
    } catch (KvmException e) {
      throw new HostUnavailableException("KVM refused the VM: " + e.getMessage(), e);
    } catch (VmException e) {
      throw new RunException(e.getMessage(), e);
    }
  }

  private void stopFromHost(MicroVm vm) {
    vm.stop();
    try {
      vm.waitForExit(Duration.ofSeconds(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    status.printf("%nhearth: stopped %s (interrupted)%n", vm.config().name());
  }

  private static void removeHook(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // The JVM is already shutting down: the hook is running and will stop the VM.
    }
  }

  private Path resolve(String field, ImageSource source, String owner) throws ManifestException {
    if (source instanceof ImageSource.Remote r) {
      status.printf("hearth: fetching %s (checked against its sha256)...%n", r.uri());
    }
    try {
      Path p = images.resolve(source, owner);
      if (source instanceof ImageSource.Remote) {
        status.printf("hearth: fetched, cached at %s%n", p);
      }
      return p;
    } catch (ImageException e) {
      throw new ManifestException(field + ": " + e.getMessage(), e);
    }
  }

  private void checkKvm() throws HostUnavailableException {
    if (!Files.exists(kvmDevice)) {
      throw new HostUnavailableException(
          "KVM is missing: "
              + kvmDevice
              + " does not exist; Hearth needs a host with KVM (load kvm_intel or kvm_amd)");
    }
    try (FileChannel _ =
        FileChannel.open(kvmDevice, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      // Openable: KVM is there and this user may use it.
    } catch (IOException | SecurityException e) {
      throw new HostUnavailableException(
          "KVM is not permitted: cannot open "
              + kvmDevice
              + " read-write ("
              + e.getMessage()
              + "); run as root or join the group that owns it");
    }
  }

  private static String summary(VmExit exit) {
    return exit.reason() + ", " + exit.message() + " after " + millis(exit.uptime());
  }

  private static String bootTime(MicroVm vm) {
    return vm.bootTime().map(t -> " (boot time " + millis(t) + ")").orElse("");
  }

  private static String millis(Duration d) {
    return d.toMillis() + " ms";
  }
}
