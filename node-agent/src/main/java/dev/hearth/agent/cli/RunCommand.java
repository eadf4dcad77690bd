package dev.hearth.agent.cli;

import dev.hearth.agent.image.ImageCache;
import dev.hearth.agent.image.NodeImages;
import dev.hearth.agent.run.HostUnavailableException;
import dev.hearth.agent.run.KvmCannotRunGuestException;
import dev.hearth.agent.run.LocalRunner;
import dev.hearth.agent.run.ManifestException;
import dev.hearth.agent.run.ManifestReader;
import dev.hearth.agent.run.RunException;
import dev.hearth.agent.runtime.VmmRuntime;
import dev.hearth.agent.spec.SpecMapper;
import dev.hearth.agent.spec.SpecRejectedException;
import dev.hearth.agent.spec.VmPlan;
import dev.hearth.api.v1alpha1.MicroVM;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hearth run <microvm.yaml>}: boots one MicroVM manifest on this machine, no cluster. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Boot a MicroVM manifest on this machine and stream its console.",
      "Image paths are relative to the images folder (--images-dir), as a node's are to its"
          + " agent's.",
      "Exit status: 0 when the guest resets or powers off, 1 when it crashes,"
          + " 2 for bad input, 3 when KVM is missing or refuses, 4 when the VMM fails,"
          + " 5 when this host's KVM cannot run the guest's kernel (Linux on a KVM that only"
          + " emulates; ./hearth then boots it in the nested-KVM harness), 130 when interrupted."
    })
final class RunCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "MANIFEST", description = "A MicroVM manifest (YAML).")
  Path manifest;

  @Option(
      names = "--cache-dir",
      paramLabel = "DIR",
      description = "Where downloaded images are cached (default: ~/.cache/hearth/images).")
  Path cacheDir = Path.of(System.getProperty("user.home"), ".cache", "hearth", "images");

  @Option(
      names = "--images-dir",
      paramLabel = "DIR",
      defaultValue = "${env:HEARTH_IMAGES_DIR}",
      description =
          "The images folder that image paths are relative to, as the node agent's --images-dir is"
              + " on a node (default: $HEARTH_IMAGES_DIR, else the manifest's folder). Nothing"
              + " outside it can be named, symbolic links included.")
  Path imagesDir;

  @Override
  public Integer call() {
    try {
      MicroVM vm = new ManifestReader().read(manifest);
      VmPlan plan;
      try {
        plan = new SpecMapper(new VmmRuntime().capabilities()).map(vm.getSpec());
      } catch (SpecRejectedException e) {
        throw new ManifestException(e.getMessage(), e);
      }
      Path root = imagesDir != null ? imagesDir : manifest.toAbsolutePath().getParent();
      ImageCache images =
          new ImageCache(
              cacheDir,
              new NodeImages(root),
              4L << 30,
              ImageCache.Timeouts.DEFAULT,
              new SimpleMeterRegistry());
      return new LocalRunner(
              images, LocalRunner.KVM_DEVICE, LocalRunner.KernelCheck.LINUX_PROBE, System.err)
          .run(vm.getMetadata().getName(), plan, System.out);
    } catch (KvmCannotRunGuestException e) {
      throw new UserFacingException(UserFacingException.KVM_CANNOT_RUN_GUEST, e.getMessage());
    } catch (HostUnavailableException e) {
      throw new UserFacingException(UserFacingException.UNAVAILABLE, e.getMessage());
    } catch (RunException e) {
      throw new UserFacingException(UserFacingException.BAD_INPUT, e.getMessage());
    }
  }
}
