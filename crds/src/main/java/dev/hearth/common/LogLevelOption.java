package dev.hearth.common;

import picocli.CommandLine.Option;

/**
 * The {@code --log-level} option ({@code HEARTH_LOG_LEVEL}) as a picocli mixin, so that every
 * command of both programs spells it the same way.
 */
public final class LogLevelOption {
  @Option(
      names = "--log-level",
      defaultValue = "${env:HEARTH_LOG_LEVEL:-info}",
      description =
          "trace, debug, info, warn or error (env HEARTH_LOG_LEVEL; default ${DEFAULT-VALUE}).")
  LogLevel level = LogLevel.INFO;

  /** The level asked for. */
  public LogLevel level() {
    return level;
  }

  /** Applies it; call before the first logger is made (slf4j-simple reads its level once). */
  public void apply() {
    level.apply();
  }
}
