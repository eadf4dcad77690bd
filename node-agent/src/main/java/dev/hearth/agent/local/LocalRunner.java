package dev.hearth.agent.local;

import dev.hearth.agent.image.ImageCache;
import dev.hearth.agent.image.ImageException;
import dev.hearth.agent.image.ImageRef;
import dev.hearth.agent.image.ImageReference;
import dev.hearth.agent.image.PullSecrets;
import dev.hearth.agent.lifecycle.RestartBackoff;
import dev.hearth.agent.metrics.VmMeters;
import dev.hearth.agent.net.Attachment;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.agent.spec.LaunchImages;
import dev.hearth.agent.spec.PlanImages;
import dev.hearth.agent.spec.VmPlan;
import dev.hearth.agent.state.PrivateFiles;
import dev.hearth.api.v1alpha1.RestartPolicy;
import dev.hearth.vmm.config.ConfigException;
import dev.hearth.vmm.config.SeccompMode;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.devices.legacy.GuestExitPort;
import dev.hearth.vmm.kvm.KvmException;
import dev.hearth.vmm.loader.LoaderException;
import dev.hearth.vmm.ratelimit.RateLimitException;
import dev.hearth.vmm.vm.LinuxKvmProbe;
import dev.hearth.vmm.vm.MicroVm;
import dev.hearth.vmm.vm.VmException;
import dev.hearth.vmm.vm.VmExit;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Boots one planned VM on this machine: resolves its images, checks KVM (and, for a Linux kernel,
 * that this KVM can run Linux), wires its interfaces to a network of the run's own ({@link
 * LocalNetwork}), creates the VM through the same plan-to-VMM path as the node agent ({@link
 * LaunchImages}, {@link VmmRuntime#config}), streams the console to {@code console} and waits for
 * the guest to end, booting it again as its restart policy says. Ctrl-C stops it cleanly.
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

  /** Why this host's KVM cannot boot a kernel, if it cannot; empty when it can. */
  @FunctionalInterface
  public interface KernelCheck {
    Optional<String> whyKvmCannotBoot(Path kernel);

    /** Linux needs a KVM that runs it ({@link LinuxKvmProbe}); other guests run on any KVM. */
    KernelCheck LINUX_PROBE =
        kernel ->
            LinuxKvmProbe.looksLikeLinux(kernel)
                ? LinuxKvmProbe.whyLinuxCannotRun()
                : Optional.empty();
  }

  /** Who holds the run's cached images. */
  private static final String OWNER = "hearth-run";

  /** Sets up the run's guest network, for a VM with interfaces. */
  @FunctionalInterface
  public interface Networks {
    LocalNetwork open() throws HostUnavailableException;
  }

  private final ImageCache images;
  private final HostCheck host;
  private final Networks networks;
  private final PrintStream status;
  private final SeccompMode seccomp;
  private final PullSecrets pullSecrets;
  private volatile StopSignal active;

  /**
   * @param images where node paths resolve (hearth run's images folder) and URL images are cached
   * @param kvmDevice the KVM device to check before anything is created: {@link #KVM_DEVICE}, which
   *     the VMM opens, or a stand-in in tests
   * @param kernelCheck whether KVM here can boot the kernel ({@link KernelCheck#LINUX_PROBE})
   * @param networks the guest network for a VM with interfaces ({@link LocalNetwork#onThisHost})
   * @param status where progress and the final line go (stderr)
   * @param seccomp the VM's thread filters ({@code hearth run --seccomp})
   * @param pullSecrets the credentials OCI images are pulled with
   */
  public LocalRunner(
      ImageCache images,
      Path kvmDevice,
      KernelCheck kernelCheck,
      Networks networks,
      PrintStream status,
      SeccompMode seccomp,
      PullSecrets pullSecrets) {
    this.pullSecrets = pullSecrets;
    this.images = images;
    this.host = new HostCheck(kvmDevice, kernelCheck);
    this.networks = networks;
    this.status = status;
    this.seccomp = seccomp;
  }

  /**
   * Runs {@code plan}, the VM {@code name}, to its end and returns the process exit status for how
   * the guest ended. With {@code restartPolicy} Always (or OnFailure, after a failure) a guest that
   * ends boots again after the agent's back-off, until Ctrl-C or SIGTERM; then the status is {@link
   * #STOPPED}. Whatever the run made (taps, bridge, rules, disk copies) is gone when this returns,
   * also when it was interrupted.
   */
  public int run(String name, VmPlan plan, RestartPolicy restartPolicy, OutputStream console)
      throws RunException {
    Path work = null;
    LocalNetwork network = null;
    StopSignal stop = StopSignal.install(name, status);
    active = stop;
    try {
      work = Files.createTempDirectory("hearth-run-");
      LaunchImages resolved = images(plan, work);
      // Checks the whole config before KVM or the host's network is touched.
      config(name, plan, resolved, List.of(), work, console);
      host.canRun(resolved.kernel());
      List<Attachment> attachments = List.of();
      if (!plan.nics().isEmpty()) {
        network = networks.open();
        attachments = network.attach(name, plan.networkPolicy(), plan.nics());
      }
      VmConfig config = config(name, plan, resolved, attachments, work, console);
      status.printf(
          "hearth: booting %s (%d vCPU, %d MiB) from %s%n",
          name, plan.vcpus(), plan.memoryMiB(), config.boot().kernel());
      for (Attachment a : attachments) {
        status.printf(
            "hearth: %s: %s/%d, gateway %s, MAC %s, tap %s on bridge %s (NAT out)%n",
            a.iface(),
            a.ip().getHostAddress(),
            a.subnet().prefixLength(),
            a.gateway().getHostAddress(),
            a.mac(),
            a.tap(),
            network.names().bridge());
      }
      config
          .devices()
          .vsock()
          .ifPresent(
              v ->
                  status.printf(
                      "hearth: vsock socket %s (connect and send CONNECT <port>)%n", v.udsPath()));
      return supervise(name, config, restartPolicy, plan.container().isPresent(), console, stop);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return STOPPED;
    } catch (IOException e) {
      throw new RunException("console: " + e.getMessage(), e);
    } finally {
      closeNetwork(network);
      images.release(OWNER);
      deleteTree(work);
      active = null;
      stop.close();
    }
  }

  /** Stops the VM that runs, or cuts a restart back-off short, as Ctrl-C does. */
  public void stop() {
    StopSignal s = active;
    if (s != null) {
      s.request();
    }
  }

  /**
   * Boots {@code config} and boots it again each time {@code policy} says so, as the agent does:
   * Always after any end, OnFailure after a crash; with the agent's back-off between boots.
   */
  private int supervise(
      String name,
      VmConfig config,
      RestartPolicy policy,
      boolean container,
      OutputStream console,
      StopSignal stop)
      throws RunException, InterruptedException, IOException {
    RestartBackoff backoff =
        new RestartBackoff(policy, RestartBackoff.Config.DEFAULT, InstantSource.system(), 0);
    while (true) {
      VmExit exit;
      Optional<Duration> boot;
      Optional<GuestExitPort.Status> report;
      try (MicroVm vm = create(config, console)) {
        if (!stop.track(vm)) {
          return STOPPED;
        }
        backoff.started();
        vm.start();
        exit = vm.waitForExit();
        stop.untrack();
        boot = vm.bootTime();
        report = exit.isClean() ? vm.guestExitStatus() : Optional.empty();
      }
      console.flush();
      status.printf(
          "%nhearth: %s ended: %s%s%n",
          name, summary(exit), boot.map(t -> " (boot time " + millis(t) + ")").orElse(""));
      if (stop.requested()) {
        return STOPPED;
      }
      report.ifPresent(r -> status.printf("hearth: %s: %s%n", name, ExitCodes.describe(r)));
      int code =
          container ? ExitCodes.ofContainer(exit.reason(), report) : ExitCodes.of(exit.reason());
      boolean success = container ? code == 0 : exit.isClean();
      if (!(backoff.exited(success) instanceof RestartBackoff.Decision.Restart again)) {
        return code;
      }
      status.printf(
          "hearth: restartPolicy %s: booting %s again in %s (restart %d; Ctrl-C stops it)%n",
          policy, name, millis(again.delay()), backoff.restartCount() + 1);
      if (stop.await(again.delay())) {
        return STOPPED;
      }
      backoff.restarting();
    }
  }

  private void closeNetwork(LocalNetwork network) {
    if (network == null) {
      return;
    }
    try {
      network.close();
    } catch (RuntimeException e) {
      status.printf(
          "hearth: could not remove all of the run's network (bridge %s): %s%n",
          network.names().bridge(), e.getMessage());
    }
  }

  /**
   * The VMM config for {@code plan}, as the agent makes it: images resolved, writable disks as
   * private copies under {@code work}, the generated kernel arguments before the user's, and the
   * vsock socket in {@code work}.
   */
  VmConfig config(String name, VmPlan plan, Path work, OutputStream console)
      throws ManifestException {
    return config(name, plan, images(plan, work), List.of(), work, console);
  }

  private LaunchImages images(VmPlan plan, Path work) throws ManifestException {
    try {
      return LaunchImages.prepare(
          plan,
          new PlanImages() {
            @Override
            public Path resolve(String field, ImageRef source) throws ImageException {
              return LocalRunner.this.resolve(field, source);
            }

            @Override
            public ImageReference pin(String field, ImageRef.OciConfig image)
                throws ImageException {
              try {
                ImageReference pinned =
                    images.pin(image.reference(), image.pullSecrets(), pullSecrets);
                status.printf("hearth: %s is %s%n", image.reference(), pinned);
                return pinned;
              } catch (ImageException e) {
                throw new ImageException(e.reason(), field + ": " + e.getMessage(), e);
              }
            }
          },
          work.resolve("disks"));
    } catch (ImageException e) {
      throw new ManifestException(e.getMessage(), e);
    }
  }

  private VmConfig config(
      String name,
      VmPlan plan,
      LaunchImages resolved,
      List<Attachment> attachments,
      Path work,
      OutputStream console)
      throws ManifestException {
    VmLaunch launch =
        new VmLaunch(
            name,
            plan.vcpus(),
            plan.memoryMiB(),
            resolved.kernel(),
            resolved.initrd(),
            plan.generatedCmdline(name, attachments),
            plan.extraCmdline(),
            resolved.disks(),
            attachments.stream().map(a -> new VmLaunch.Nic(a.iface(), a.tap(), a.mac())).toList(),
            plan.vsockCid(),
            plan.limits(),
            console,
            VmMeters.NONE);
    try {
      return new VmmRuntime(work, seccomp).config(launch);
    } catch (ConfigException e) {
      throw new ManifestException(
          manifestField(plan, e.field()) + e.getMessage().substring(e.field().length()), e);
    } catch (RateLimitException e) {
      throw new ManifestException(e.getMessage(), e);
    } catch (IOException e) {
      throw new ManifestException("spec.vsock: " + e.getMessage(), e);
    }
  }

  /** The manifest field behind a VMM config field ({@code drives[data].path}: spec.drives[0]). */
  private static String manifestField(VmPlan plan, String field) {
    for (VmPlan.DiskPlan d : plan.disks()) {
      String prefix = "drives[" + d.name() + "]";
      if (field.startsWith(prefix)) {
        return plan.fieldOf(d) + field.substring(prefix.length());
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
    try {
      PrivateFiles.deleteTree(dir);
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

  /** An image for {@code field}, under the images folder or from the cache, held for the run. */
  private Path resolve(String field, ImageRef source) throws ImageException {
    if (source instanceof ImageRef.Remote r) {
      status.printf("hearth: fetching %s (checked against its sha256)...%n", r.uri());
    }
    if (source instanceof ImageRef.Oci o) {
      status.printf(
          "hearth: pulling %s%s (cached by digest)...%n",
          o.reference(), o.file().map(f -> ", file " + f).orElse(""));
    }
    try {
      Path p = images.resolve(source, OWNER, pullSecrets);
      if (source instanceof ImageRef.Remote || source instanceof ImageRef.Oci) {
        status.printf("hearth: fetched, cached at %s%n", p);
      }
      return p;
    } catch (ImageException e) {
      throw new ImageException(e.reason(), field + ": " + e.getMessage(), e);
    }
  }

  private static String summary(VmExit exit) {
    return exit.reason() + ", " + exit.message() + " after " + millis(exit.uptime());
  }

  private static String millis(Duration d) {
    return d.toMillis() + " ms";
  }
}
