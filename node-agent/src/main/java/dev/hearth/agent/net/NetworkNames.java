package dev.hearth.agent.net;

/**
 * What one guest network owns on a host, by name: its bridge, its nftables tables (one {@code ip},
 * one {@code bridge}, both called {@code table}) and the prefix of its taps. A network finds,
 * guards and deletes only what carries its names, so two networks on one host (the node agent's and
 * a {@code hearth run}'s) must differ in all three.
 *
 * @param bridge the bridge's interface name
 * @param table the name of both nftables tables
 * @param tapPrefix what every tap name starts with; no other network's taps may start with it
 */
public record NetworkNames(String bridge, String table, String tapPrefix) {

  public NetworkNames {
    if (!bridge.matches("[A-Za-z0-9_.-]{1,15}")) {
      throw new NetworkException(
          "bridge name '" + bridge + "' must be 1 to 15 letters, digits, '_', '.' or '-'");
    }
    if (!table.matches("[A-Za-z][A-Za-z0-9_-]{0,31}")) {
      throw new NetworkException("nftables table name '" + table + "' is not a plain name");
    }
    if (!tapPrefix.matches("[a-z][a-z0-9-]{0," + (InterfaceNames.MAX_PREFIX - 1) + "}")) {
      throw new NetworkException(
          "tap prefix '"
              + tapPrefix
              + "' must be 1 to "
              + InterfaceNames.MAX_PREFIX
              + " lower-case letters, digits or '-'");
    }
  }

  /**
   * The node agent's: tables {@value FirewallRules#TABLE}, taps {@value InterfaceNames#TAP_PREFIX}.
   */
  public static NetworkNames agent(String bridge) {
    return new NetworkNames(bridge, FirewallRules.TABLE, InterfaceNames.TAP_PREFIX);
  }
}
