package dev.hearth.agent.net;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Runs a host command (iproute2, nftables) and returns its stdout, or throws with its stderr; and
 * sets kernel parameters, in the same network namespace as the commands it runs.
 */
public interface CommandRunner {
  String run(List<String> argv, String stdin);

  default String run(String... argv) {
    return run(List.of(argv), null);
  }

  /**
   * Sets a kernel parameter ({@code net.ipv4.ip_forward}) to {@code value} unless it already has
   * it, so that a node that already forwards needs no write access to {@code /proc/sys}. This
   * writes {@code /proc/sys} of this process's network namespace directly: no {@code sysctl}
   * program is needed in the agent's image.
   */
  default void sysctl(String key, String value) {
    Path file = procSysFile(key);
    try {
      if (Files.readString(file).strip().equals(value)) {
        return;
      }
      Files.writeString(file, value);
    } catch (IOException e) {
      throw new NetworkException(
          "cannot set "
              + key
              + "="
              + value
              + " ("
              + file
              + ": "
              + e.getMessage()
              + "); a container that is not privileged cannot, so set it on the node",
          e);
    }
  }

  /** {@code net.ipv4.ip_forward} is {@code /proc/sys/net/ipv4/ip_forward}. */
  static Path procSysFile(String key) {
    if (!key.matches("[a-z0-9_]+(\\.[a-z0-9_]+)+")) {
      throw new IllegalArgumentException("not a kernel parameter name: " + key);
    }
    return Path.of("/proc/sys", key.split("\\."));
  }
}
