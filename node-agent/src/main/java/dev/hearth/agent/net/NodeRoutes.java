package dev.hearth.agent.net;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * The routes to the other nodes' guest subnets, each through its node's address, as a flat host-gw
 * network does: {@code ip route replace <subnet> via <node> proto 213}. The protocol number marks
 * Hearth's routes, so that those of nodes that left are found and removed, after a crash too. The
 * nodes must share an L2 segment (or the network between them must route the guest subnets).
 */
final class NodeRoutes {
  /** The route protocol that marks Hearth's routes (213, after the default 10.213.0.0/16). */
  static final String PROTO = "213";

  private final CommandRunner commands;

  NodeRoutes(CommandRunner commands) {
    this.commands = commands;
  }

  /** Makes Hearth's routes exactly {@code want}: subnet to the node address it goes through. */
  void sync(Map<IpBlock, InetAddress> want) {
    Map<String, String> have = new HashMap<>();
    for (String line : commands.run("ip", "-4", "route", "show", "proto", PROTO).split("\n")) {
      String[] f = line.strip().split("\\s+");
      if (f.length >= 3 && "via".equals(f[1])) {
        have.put(f[0], f[2]);
      }
    }
    for (var e : have.entrySet()) {
      boolean kept =
          want.entrySet().stream()
              .anyMatch(
                  w ->
                      w.getKey().toString().equals(e.getKey())
                          && w.getValue().getHostAddress().equals(e.getValue()));
      if (!kept) {
        commands.run("ip", "-4", "route", "del", e.getKey(), "proto", PROTO);
      }
    }
    for (var w : want.entrySet()) {
      if (!w.getValue().getHostAddress().equals(have.get(w.getKey().toString()))) {
        commands.run(
            "ip",
            "-4",
            "route",
            "replace",
            w.getKey().toString(),
            "via",
            w.getValue().getHostAddress(),
            "proto",
            PROTO);
      }
    }
  }
}
