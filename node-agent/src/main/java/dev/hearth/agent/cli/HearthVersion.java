package dev.hearth.agent.cli;

import dev.hearth.common.HearthBuild;
import picocli.CommandLine.IVersionProvider;

/** {@code hearth -V}: the build's version (the Maven project version). */
final class HearthVersion implements IVersionProvider {
  @Override
  public String[] getVersion() {
    return new String[] {"hearth " + HearthBuild.version()};
  }
}
