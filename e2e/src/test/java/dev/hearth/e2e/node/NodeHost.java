package dev.hearth.e2e.node;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.agent.net.InterfaceNames;
import dev.hearth.e2e.Command;
import dev.hearth.e2e.ProjectRoot;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/** This host as the real-node layer sees it: whether it can run, its tools, the agent's console. */
final class NodeHost {
  /** The chart's agent.httpPort: the agent serves consoles there on the node's network. */
  static final int AGENT_PORT = 9940;

  private NodeHost() {}

  /** Runs a host command (ip, nft, ...) and returns what it did. */
  static Command.Result command(String... command) {
    return Command.run(List.of(command), ProjectRoot.find(), Map.of(), Duration.ofSeconds(30));
  }

  /** Why the node layer cannot run on this host, if it cannot. */
  static Optional<String> whyNotHere() {
    if (!"root".equals(System.getProperty("user.name"))) {
      return Optional.of("not running as root (a kubelet node changes the host)");
    }
    if (!Files.exists(Path.of("/dev/kvm"))) {
      return Optional.of(
          "no /dev/kvm (the agent's DaemonSet mounts it; the nested harness has one)");
    }
    for (String tool : List.of("apt-get", "dpkg-query", "openssl", "ip")) {
      if (command("sh", "-c", "command -v " + tool).status() != 0) {
        return Optional.of("no " + tool + " on this host (node.sh installs Debian packages)");
      }
    }
    return Optional.empty();
  }

  /** Skips the calling test with one line, or fails it under {@code CI=true}. */
  static void unavailable(String why) {
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      Assertions.fail("the real-node layer cannot run under CI=true: " + why);
    }
    Assumptions.abort("real-node layer skipped: " + why);
  }

  /** Deletes a folder and all in it, if it exists. */
  static void deleteTree(Path dir) throws IOException {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * What of Hearth is on this host: the bridge, the given taps and any other with Hearth's prefix,
   * the nftables tables, the VM directories under {@code dataDir/vms}. Empty once all is gone.
   */
  static List<String> hearthLeftovers(Path dataDir, List<String> taps) throws IOException {
    List<String> left = new ArrayList<>();
    for (String link : Stream.concat(Stream.of("hearth0"), taps.stream()).toList()) {
      if (command("ip", "link", "show", link).status() == 0) {
        left.add("link " + link);
      }
    }
    command("ip", "-br", "link", "show")
        .stdout()
        .lines()
        .map(l -> l.split("[\\s@]+")[0])
        .filter(l -> l.startsWith(InterfaceNames.TAP_PREFIX) && !taps.contains(l))
        .forEach(l -> left.add("link " + l));
    for (String family : List.of("ip", "bridge")) {
      if (command("nft", "list", "table", family, "hearth").status() == 0) {
        left.add("nft table " + family + " hearth");
      }
    }
    Path vms = dataDir.resolve("vms");
    if (Files.isDirectory(vms)) {
      try (Stream<Path> dirs = Files.list(vms)) {
        dirs.forEach(d -> left.add("VM directory " + d));
      }
    }
    return left;
  }

  /** The host PID of the container's main process: the one process whose cgroup names it. */
  static long processOfContainer(String containerId) throws IOException {
    List<Long> found = new ArrayList<>();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
        try {
          if (Files.readString(p.resolve("cgroup")).contains(containerId)) {
            found.add(Long.parseLong(p.getFileName().toString()));
          }
        } catch (IOException gone) {
          // exited meanwhile
        }
      }
    }
    // The container's init is the lowest PID in it (the JVM is PID 1 of its namespace).
    return found.stream()
        .min(Long::compare)
        .orElseThrow(() -> new AssertionError("no process in container " + containerId));
  }

  /** {@code /proc/PID/status} as key to value (first column after the colon). */
  static Map<String, String> procStatus(long pid) throws IOException {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        out.put(line.substring(0, colon), line.substring(colon + 1).strip());
      }
    }
    return out;
  }

  /**
   * The devices cgroup v1 allowlist of the process's cgroup ({@code devices.list}); empty where
   * there is none (cgroup v2).
   */
  static List<String> deviceCgroupAllows(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"))) {
      String[] f = line.split(":", 3);
      if (f.length == 3 && List.of(f[1].split(",")).contains("devices")) {
        Path list = Path.of("/sys/fs/cgroup/devices" + f[2], "devices.list");
        return Files.exists(list) ? Files.readAllLines(list) : List.of();
      }
    }
    return List.of();
  }

  /** The VM's console as the agent serves it (host network, the chart's agent.httpPort). */
  static String console(String namespace, String name) {
    try (HttpClient http = HttpClient.newHttpClient()) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://127.0.0.1:"
                              + AGENT_PORT
                              + "/vms/"
                              + namespace
                              + "/"
                              + name
                              + "/console"))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode())
          .as("console of %s/%s: %s", namespace, name, r.body())
          .isEqualTo(200);
      return r.body();
    } catch (IOException e) {
      throw new AssertionError("cannot read the console of " + namespace + "/" + name, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
