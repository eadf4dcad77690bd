package dev.hearth.agent.cli;

import dev.hearth.agent.image.ImageCache;
import dev.hearth.agent.run.HostUnavailableException;
import dev.hearth.agent.run.LocalRunner;
import dev.hearth.agent.run.LocalVmPlan;
import dev.hearth.agent.run.ManifestReader;
import dev.hearth.agent.run.RunException;
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
      "Relative image paths are resolved against the manifest's directory.",
      "Exit status: 0 when the guest resets or powers off, 1 when it crashes,"
          + " 2 for bad input, 3 when KVM is missing or refuses, 4 when the VMM fails,"
          + " 130 when interrupted."
    })
final class RunCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "MANIFEST", description = "A MicroVM manifest (YAML).")
  Path manifest;

  @Option(
      names = "--cache-dir",
      paramLabel = "DIR",
      description = "Where downloaded images are cached (default: ~/.cache/hearth/images).")
  Path cacheDir = Path.of(System.getProperty("user.home"), ".cache", "hearth", "images");

  @Override
  public Integer call() {
    try {
      LocalVmPlan plan = LocalVmPlan.of(new ManifestReader().read(manifest));
      ImageCache images =
          new ImageCache(
              cacheDir, 4L << 30, ImageCache.Timeouts.DEFAULT, new SimpleMeterRegistry());
      return new LocalRunner(images, LocalRunner.KVM_DEVICE, System.err).run(plan, System.out);
    } catch (HostUnavailableException e) {
      throw new UserFacingException(UserFacingException.UNAVAILABLE, e.getMessage());
    } catch (RunException e) {
      throw new UserFacingException(UserFacingException.BAD_INPUT, e.getMessage());
    }
  }
}
