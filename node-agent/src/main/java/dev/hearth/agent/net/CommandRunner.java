package dev.hearth.agent.net;

import java.util.List;

/** Runs a host command (iproute2, nftables) and returns its stdout, or throws with its stderr. */
public interface CommandRunner {
  String run(List<String> argv, String stdin);

  default String run(String... argv) {
    return run(List.of(argv), null);
  }
}
