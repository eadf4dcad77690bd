package dev.hearth.agent.cli;

import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * Turns a failure the user can act on into one line on stderr, with no stack trace. Anything else
 * is a bug and keeps its trace.
 */
final class OneLineErrors implements IExecutionExceptionHandler {
  @Override
  public int handleExecutionException(Exception e, CommandLine cmd, ParseResult parsed)
      throws Exception {
    if (e instanceof UserFacingException u) {
      cmd.getErr().println("hearth: " + u.getMessage());
      cmd.getErr().flush();
      return u.exitCode();
    }
    throw e;
  }
}
