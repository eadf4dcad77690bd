package dev.hearth.agent.net;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs commands on this host, or inside a named network namespace ({@code ip netns exec}) so tests
 * can build bridges and taps that never touch the host's own network. The programs it runs are
 * {@code ip} (iproute2) and {@code nft} (nftables): docker/agent.Dockerfile installs exactly those.
 * Kernel parameters are written to {@code /proc/sys} directly, with no {@code sysctl} program.
 */
public final class HostCommands implements CommandRunner {
  /**
   * The programs the agent runs on a node, each with the Debian package that provides it. On the
   * host, no other program is run; the agent image installs exactly these packages (an e2e test
   * compares the two).
   */
  public static final Map<String, String> PROGRAMS = Map.of("ip", "iproute2", "nft", "nftables");

  private static final long TIMEOUT_SECONDS = 30;
  private final Optional<String> netns;

  private HostCommands(Optional<String> netns) {
    this.netns = netns;
  }

  public static HostCommands host() {
    return new HostCommands(Optional.empty());
  }

  public static HostCommands inNamespace(String netns) {
    return new HostCommands(Optional.of(netns));
  }

  @Override
  public String run(List<String> argv, String stdin) {
    if (netns.isEmpty() && !PROGRAMS.containsKey(argv.getFirst())) {
      throw new IllegalArgumentException(
          argv.getFirst() + " is not one of the programs the agent image installs: " + PROGRAMS);
    }
    List<String> full = new ArrayList<>();
    netns.ifPresent(ns -> full.addAll(List.of("ip", "netns", "exec", ns)));
    full.addAll(argv);
    String shown = String.join(" ", full);
    try {
      Process p = new ProcessBuilder(full).start();
      CompletableFuture<String> out = drain(p.getInputStream());
      CompletableFuture<String> err = drain(p.getErrorStream());
      try (OutputStream in = p.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new NetworkException(
            "'" + shown + "' did not finish within " + TIMEOUT_SECONDS + " s");
      }
      if (p.exitValue() != 0) {
        throw new NetworkException(
            "'" + shown + "' failed with status " + p.exitValue() + ": " + err.join().strip());
      }
      return out.join();
    } catch (IOException e) {
      throw new NetworkException(
          "cannot run '" + shown + "' (are iproute2 and nftables installed?): " + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NetworkException("interrupted running '" + shown + "'", e);
    }
  }

  @Override
  public void sysctl(String key, String value) {
    if (netns.isEmpty()) {
      CommandRunner.super.sysctl(key, value);
      return;
    }
    // /proc/sys/net belongs to the network namespace of the process that opens it, so a test's
    // namespace is set from inside it (coreutils, test machines only).
    String file = CommandRunner.procSysFile(key).toString();
    if (!run("cat", file).strip().equals(value)) {
      run(List.of("tee", file), value);
    }
  }

  private static CompletableFuture<String> drain(java.io.InputStream s) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return new String(s.readAllBytes(), StandardCharsets.UTF_8);
          } catch (IOException e) {
            return "";
          }
        },
        r -> Thread.ofVirtual().name("hearth-cmd-output").start(r));
  }
}
