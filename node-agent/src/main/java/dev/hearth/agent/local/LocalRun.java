package dev.hearth.agent.local;

import dev.hearth.agent.image.AuthFilePullSecrets;
import dev.hearth.agent.image.Destinations;
import dev.hearth.agent.image.ImageCache;
import dev.hearth.agent.image.NodeImages;
import dev.hearth.agent.image.OciSettings;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.agent.spec.ContainerBoot;
import dev.hearth.agent.spec.SpecMapper;
import dev.hearth.agent.spec.SpecRejectedException;
import dev.hearth.agent.spec.VmPlan;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.vmm.config.SeccompMode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What {@code hearth run <manifest>} does, whole: reads the manifest as the cluster would ({@link
 * ManifestReader#readVm}, which also turns a MicroVMSet into its one replica), maps its spec as the
 * agent does ({@link SpecMapper}) and boots it with a {@link LocalRunner} on this host's KVM,
 * images folder and network. The CLI runs it; so do tests, in-process.
 */
public final class LocalRun {
  /** How many bytes of downloaded images the run's cache keeps. */
  private static final long CACHE_BYTES = 4L << 30;

  private final LocalRunner runner;
  private final PrintStream status;
  private final ContainerBoot containerBoot;

  private LocalRun(LocalRunner runner, PrintStream status) {
    this(runner, status, ContainerBoot.DEFAULT);
  }

  private LocalRun(LocalRunner runner, PrintStream status, ContainerBoot containerBoot) {
    this.runner = runner;
    this.status = status;
    this.containerBoot = containerBoot;
  }

  /**
   * This run, booting a manifest's {@code spec.container} from {@code boot}, files under the images
   * folder ({@code --container-kernel}, {@code --container-initramfs}).
   */
  public LocalRun withContainerBoot(ContainerBoot boot) {
    return new LocalRun(runner, status, boot);
  }

  /**
   * A run on this host.
   *
   * @param imagesRoot where image paths resolve, as a node's images root
   * @param cacheDir where images fetched by URL are cached
   * @param network the network for VMs with interfaces ({@code --bridge}, {@code --subnet})
   * @param status where hearth run's own lines go (stderr)
   */
  public static LocalRun onThisHost(
      Path imagesRoot, Path cacheDir, LocalNetwork.Settings network, PrintStream status) {
    return onThisHost(imagesRoot, cacheDir, network, status, SeccompMode.ENFORCE);
  }

  /** As above, the VM's threads filtered as {@code seccomp} says ({@code --seccomp}). */
  public static LocalRun onThisHost(
      Path imagesRoot,
      Path cacheDir,
      LocalNetwork.Settings network,
      PrintStream status,
      SeccompMode seccomp) {
    return onThisHost(imagesRoot, cacheDir, network, Registries.DEFAULT, status, seccomp);
  }

  /**
   * How {@code hearth run} reaches OCI registries.
   *
   * @param plainHttp registries (host[:port]) reached over plain http ({@code --insecure-registry})
   * @param authFile a docker config file with credentials ({@code --registry-auth-file})
   */
  public record Registries(Set<String> plainHttp, Optional<Path> authFile) {
    /** https only, no credentials. */
    public static final Registries DEFAULT = new Registries(Set.of(), Optional.empty());

    public Registries {
      plainHttp = Set.copyOf(plainHttp);
    }
  }

  /** As above, with {@code registries} for the manifest's OCI images. */
  public static LocalRun onThisHost(
      Path imagesRoot,
      Path cacheDir,
      LocalNetwork.Settings network,
      Registries registries,
      PrintStream status,
      SeccompMode seccomp) {
    ImageCache images =
        new ImageCache(
            cacheDir,
            new NodeImages(imagesRoot),
            CACHE_BYTES,
            ImageCache.Timeouts.DEFAULT,
            Destinations.ANY, // one's own manifest on one's own machine: no tenant to guard against
            OciSettings.DEFAULT.withPlainHttp(registries.plainHttp()),
            new SimpleMeterRegistry());
    return new LocalRun(
        new LocalRunner(
            images,
            LocalRunner.KVM_DEVICE,
            LocalRunner.KernelCheck.LINUX_PROBE,
            LocalNetwork.onThisHost(network),
            status,
            seccomp,
            new AuthFilePullSecrets(registries.authFile())),
        status);
  }

  /**
   * Runs the manifest's VM to its end, its console on {@code console}; see {@link LocalRunner#run}.
   */
  public int run(Path manifest, OutputStream console) throws RunException {
    ManifestReader.LocalVm local = new ManifestReader().readVm(manifest);
    local.note().ifPresent(n -> status.println("hearth: " + n));
    MicroVM vm = local.vm();
    VmPlan plan;
    try {
      plan = new SpecMapper(new VmmRuntime().capabilities(), containerBoot).map(vm.getSpec());
    } catch (SpecRejectedException e) {
      throw new ManifestException(e.getMessage(), e);
    }
    List<String> registries =
        plan.ociImages().stream().map(r -> r.substring(0, Math.max(0, r.indexOf('/')))).toList();
    try (LoopbackForward _ =
        LoopbackForward.start(registries, System.getenv(LoopbackForward.ENV), status)) {
      return runner.run(
          vm.getMetadata().getName(), plan, vm.getSpec().restartPolicyOrDefault(), console);
    } catch (java.io.IOException e) {
      throw new RunException("cannot forward a loopback registry: " + e.getMessage(), e);
    }
  }

  /** Stops the run from another thread, as Ctrl-C does; a no-op when nothing runs. */
  public void stop() {
    runner.stop();
  }
}
