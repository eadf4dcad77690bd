package dev.hearth.agent.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code hearth} command line: the node agent and the single-machine runner. */
@Command(
    name = "hearth",
    mixinStandardHelpOptions = true,
    versionProvider = HearthVersion.class,
    description = "Run KVM microVMs, on a Kubernetes node or on this machine alone.",
    subcommands = {
      RunCommand.class,
      AgentCommand.class,
      ConsoleCommand.class,
      DevicePluginCommand.class
    })
public final class HearthCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing a command, e.g. run");
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The configured command line; tests drive it without exiting the JVM. */
  public static CommandLine commandLine() {
    return new CommandLine(new HearthCommand())
        .setCaseInsensitiveEnumValuesAllowed(true)
        .setExecutionExceptionHandler(new OneLineErrors());
  }
}
