package dev.hearth.agent.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code hearth agent}: the node agent (DaemonSet). */
@Command(
    name = "agent",
    mixinStandardHelpOptions = true,
    description = "Run the node agent: boot the MicroVMs bound to this node and report on them.")
final class AgentCommand implements Callable<Integer> {
  /** The agent's HTTP port: console, metrics, health. */
  static final int DEFAULT_HTTP_PORT = 9940;

  @Override
  public Integer call() {
    throw new UserFacingException(UserFacingException.UNAVAILABLE, "hearth agent is not wired yet");
  }
}
