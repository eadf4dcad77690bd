package dev.hearth.agent.net;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Makes sure the host tools the networking code drives (iproute2's {@code ip}, nftables' {@code
 * nft}) and those a test drives besides are installed, installing the Debian packages with apt-get
 * when one is missing. Root tests call it first, so a fresh machine needs no manual step.
 */
public final class HostTools {
  private static final Map<String, String> NETWORKING = Map.of("ip", "iproute2", "nft", "nftables");

  private HostTools() {}

  /** The tools the agent's networking code runs. */
  public static void ensureInstalled() throws IOException, InterruptedException {
    ensureInstalled(NETWORKING);
  }

  /** Each tool of {@code packages}'s keys, from the Debian package it maps to where missing. */
  public static synchronized void ensureInstalled(Map<String, String> packages)
      throws IOException, InterruptedException {
    List<String> missing =
        packages.entrySet().stream()
            .filter(e -> !onPath(e.getKey()))
            .map(Map.Entry::getValue)
            .distinct()
            .sorted()
            .toList();
    if (missing.isEmpty()) {
      return;
    }
    if (!apt("install", missing) && !(apt("update", missing) && apt("install", missing))) {
      throw new IllegalStateException(
          "cannot install " + missing + " with apt-get; install them to run the network tests");
    }
  }

  private static boolean apt(String verb, List<String> packages)
      throws IOException, InterruptedException {
    List<String> cmd =
        verb.equals("update")
            ? List.of("apt-get", "update", "-q")
            : concat(
                List.of("apt-get", "install", "-y", "-q", "--no-install-recommends"), packages);
    Process p = new ProcessBuilder(cmd).inheritIO().start();
    return p.waitFor(10, TimeUnit.MINUTES) && p.exitValue() == 0;
  }

  private static List<String> concat(List<String> a, List<String> b) {
    return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
  }

  private static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return Files.isExecutable(Path.of("/usr/sbin", tool));
  }
}
