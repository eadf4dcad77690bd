package dev.hearth.agent.net;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes sure the host tools the networking code drives (iproute2's {@code ip}, nftables' {@code
 * nft}) are installed, installing the Debian packages with apt-get when one is missing. Root tests
 * call it first, so a fresh machine needs no manual step.
 */
public final class HostTools {
  private static final List<String> TOOLS = List.of("ip", "nft");
  private static final List<String> PACKAGES = List.of("iproute2", "nftables");

  private HostTools() {}

  public static synchronized void ensureInstalled() throws IOException, InterruptedException {
    if (TOOLS.stream().allMatch(HostTools::onPath)) {
      return;
    }
    if (!apt("install") && !(apt("update") && apt("install"))) {
      throw new IllegalStateException(
          "cannot install " + PACKAGES + " with apt-get; install them to run the network tests");
    }
  }

  private static boolean apt(String verb) throws IOException, InterruptedException {
    List<String> cmd =
        verb.equals("update")
            ? List.of("apt-get", "update", "-q")
            : concat(
                List.of("apt-get", "install", "-y", "-q", "--no-install-recommends"), PACKAGES);
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
