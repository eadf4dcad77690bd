package dev.hearth.agent.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code hearth run <microvm.yaml>}: boots one MicroVM manifest on this machine, no cluster. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = "Boot a MicroVM manifest on this machine and stream its console.")
final class RunCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "MANIFEST", description = "A MicroVM manifest (YAML).")
  Path manifest;

  @Override
  public Integer call() {
    if (!Files.isRegularFile(manifest)) {
      throw new UserFacingException(
          UserFacingException.BAD_INPUT, manifest + ": no such manifest file");
    }
    if (!Files.isReadable(manifest)) {
      throw new UserFacingException(
          UserFacingException.BAD_INPUT, manifest + ": the manifest file is not readable");
    }
    throw new UserFacingException(
        UserFacingException.UNAVAILABLE,
        "cannot boot "
            + manifest
            + " yet: the VMM's boot path is still being built, so this Hearth build boots no"
            + " guest");
  }
}
