package dev.hearth.agent.cli;

import picocli.CommandLine.IVersionProvider;

/** Reports the version from the jar manifest, or "dev" when run from classes. */
final class HearthVersion implements IVersionProvider {
  @Override
  public String[] getVersion() {
    String v = HearthCommand.class.getPackage().getImplementationVersion();
    return new String[] {"hearth " + (v == null ? "dev" : v)};
  }
}
