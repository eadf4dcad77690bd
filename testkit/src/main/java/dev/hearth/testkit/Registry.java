package dev.hearth.testkit;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real OCI registry for tests: Debian's {@code docker-registry} (the distribution registry 2.8)
 * on a free loopback port, storing in a temporary folder, over plain http. With {@link
 * #startPrivate} it asks for basic auth (an htpasswd file with bcrypt entries) on every request,
 * push and pull alike. Images are pushed with {@code skopeo copy} from an OCI layout the test makes
 * ({@link OciLayout}).
 *
 * <p>Missing tools are installed with apt-get when this runs as root. Where they cannot be had, the
 * calling test is skipped with one line, except under {@code CI=true}, where it fails.
 */
public final class Registry implements AutoCloseable {
  private static final List<String> TOOLS = List.of("docker-registry", "skopeo", "htpasswd");
  private static final List<String> PACKAGES =
      List.of("docker-registry", "skopeo", "apache2-utils");
  private static final Duration READY = Duration.ofSeconds(30);

  private final Path dir;
  private final int port;
  private final Optional<String[]> credentials;
  private final Process process;

  private Registry(Path dir, int port, Optional<String[]> credentials, Process process) {
    this.dir = dir;
    this.port = port;
    this.credentials = credentials;
    this.process = process;
  }

  /** A registry anyone on loopback may push to and pull from. */
  public static Registry startPublic() {
    return start(Optional.empty());
  }

  /** A registry that answers 401 to any request without {@code user}'s basic credentials. */
  public static Registry startPrivate(String user, String password) {
    return start(Optional.of(new String[] {user, password}));
  }

  private static Registry start(Optional<String[]> credentials) {
    ensureTools();
    Path dir;
    try {
      dir = Files.createTempDirectory("hearth-registry-");
    } catch (IOException e) {
      throw new TestClusterException("cannot make a folder for the registry", e);
    }
    try {
      int port = freePort();
      StringBuilder config =
          new StringBuilder(
              """
              version: 0.1
              log:
                level: warn
                accesslog:
                  disabled: true
              storage:
                filesystem:
                  rootdirectory: %s
                delete:
                  enabled: true
              http:
                addr: 127.0.0.1:%d
              """
                  .formatted(dir.resolve("data"), port));
      if (credentials.isPresent()) {
        Path htpasswd = dir.resolve("htpasswd");
        String entry =
            run(List.of("htpasswd", "-Bbn", credentials.get()[0], credentials.get()[1]), dir)
                .strip();
        Files.writeString(htpasswd, entry + "\n");
        config.append(
            """
            auth:
              htpasswd:
                realm: hearth-test
                path: %s
            """
                .formatted(htpasswd));
      }
      Path configFile = dir.resolve("config.yml");
      Files.writeString(configFile, config.toString());
      Process p =
          new ProcessBuilder("docker-registry", "serve", configFile.toString())
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("registry.log").toFile())
              .start();
      Registry r = new Registry(dir, port, credentials, p);
      r.awaitReady();
      return r;
    } catch (IOException | RuntimeException e) {
      ControlPlane.deleteTree(dir);
      throw e instanceof TestClusterException t
          ? t
          : new TestClusterException("cannot start the registry in " + dir + ": " + e, e);
    }
  }

  /** {@code 127.0.0.1:<port>}, the registry part of an image reference. */
  public String host() {
    return "127.0.0.1:" + port;
  }

  /** The folder the registry stores in (its blobs under {@code docker/registry/v2/blobs}). */
  public Path storage() {
    return dir.resolve("data");
  }

  /** The file holding blob {@code sha256:<hex>} in the registry's storage. */
  public Path blobFile(String digest) {
    String hex = digest.substring(digest.indexOf(':') + 1);
    return storage()
        .resolve("docker/registry/v2/blobs/sha256")
        .resolve(hex.substring(0, 2))
        .resolve(hex)
        .resolve("data");
  }

  /**
   * Pushes the OCI layout {@code layout} (its image tagged {@code ref} in its index) as {@code
   * <host>/<repository>:<tag>} with skopeo, and returns the manifest's digest as skopeo reports it.
   */
  public String push(OciLayout layout, String repository, String tag) {
    Path digestFile = dir.resolve("pushed-" + System.nanoTime());
    List<String> cmd = new ArrayList<>(List.of("skopeo", "copy", "--quiet"));
    cmd.add("--dest-tls-verify=false");
    credentials.ifPresent(c -> cmd.add("--dest-creds=" + c[0] + ":" + c[1]));
    cmd.add("--digestfile=" + digestFile);
    cmd.add("oci:" + layout.dir() + ":" + layout.ref());
    cmd.add("docker://" + host() + "/" + repository + ":" + tag);
    run(cmd, dir);
    try {
      return Files.readString(digestFile).strip();
    } catch (IOException e) {
      throw new TestClusterException("skopeo wrote no digest file for " + repository, e);
    }
  }

  private void awaitReady() {
    long deadline = System.nanoTime() + READY.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new TestClusterException(
            "docker-registry exited with " + process.exitValue() + ": " + log());
      }
      try {
        HttpURLConnection c =
            (HttpURLConnection) URI.create("http://" + host() + "/v2/").toURL().openConnection();
        c.setConnectTimeout(500);
        int status = c.getResponseCode();
        c.disconnect();
        if (status == 200 || status == 401) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      sleep(100);
    }
    close();
    throw new TestClusterException("docker-registry not ready within " + READY + ": " + log());
  }

  private String log() {
    try {
      return Files.readString(dir.resolve("registry.log")).strip();
    } catch (IOException e) {
      return "(no log)";
    }
  }

  /** Stops the registry and removes its folder. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    ControlPlane.deleteTree(dir);
  }

  /** Runs {@code cmd} in {@code dir}; its standard output, or a failure with all it printed. */
  static String run(List<String> cmd, Path dir) {
    try {
      Path err = Files.createTempFile(dir, "cmd-", ".err");
      Process p =
          new ProcessBuilder(cmd).directory(dir.toFile()).redirectError(err.toFile()).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new TestClusterException(cmd.get(0) + " did not finish within 5 minutes");
      }
      String errors = Files.readString(err);
      Files.deleteIfExists(err);
      if (p.exitValue() != 0) {
        throw new TestClusterException(
            String.join(" ", cmd.subList(0, Math.min(3, cmd.size())))
                + " exited with "
                + p.exitValue()
                + ": "
                + (errors + out).strip());
      }
      return out;
    } catch (IOException e) {
      throw new TestClusterException("cannot run " + cmd.get(0) + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TestClusterException("interrupted running " + cmd.get(0), e);
    }
  }

  /**
   * Installs the registry, skopeo and htpasswd where missing (apt-get, as root); skips the calling
   * test with one line when they cannot be had, or fails it under {@code CI=true}.
   */
  public static void ensureTools() {
    ensure(TOOLS, PACKAGES, "registry tools");
  }

  /**
   * Installs {@code zstd} (to make zstd layers) where missing, as {@link #ensureTools} does; skips
   * the calling test with one line when it cannot be had.
   */
  public static void ensureZstd() {
    ensure(List.of("zstd"), List.of("zstd"), "zstd");
  }

  private static synchronized void ensure(List<String> tools, List<String> packages, String what) {
    if (missingTools(tools).isEmpty()) {
      return;
    }
    String why;
    if (!"root".equals(System.getProperty("user.name"))) {
      why = "not root, so apt-get cannot install them";
    } else {
      try {
        Path log = Files.createTempFile("hearth-registry-apt-", ".log");
        // Other builds may hold the dpkg lock: wait for it. The package lists may be missing or
        // stale on a fresh machine: update them once when the first install fails.
        List<String> wait = List.of("-o", "DPkg::Lock::Timeout=900");
        List<String> install = new ArrayList<>(List.of("apt-get"));
        install.addAll(wait);
        install.addAll(List.of("install", "-y", "-q", "--no-install-recommends"));
        install.addAll(packages);
        List<String> update = new ArrayList<>(List.of("apt-get"));
        update.addAll(wait);
        update.addAll(List.of("update", "-q"));
        boolean ok = apt(install, log) || (apt(update, log) && apt(install, log));
        why = ok ? "" : "apt-get install failed (log: " + log + ")";
      } catch (IOException e) {
        why = "apt-get cannot run: " + e.getMessage();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        why = "interrupted installing them";
      }
    }
    List<String> missing = missingTools(tools);
    if (missing.isEmpty()) {
      return;
    }
    String message =
        "hearth-testkit: no "
            + what
            + " ("
            + String.join(", ", missing)
            + " missing; Debian packages "
            + String.join(" ", packages)
            + "): "
            + why;
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      throw new TestClusterException(message + " (CI=true: the registry tests must run)");
    }
    Assumptions.abort(message);
  }

  private static boolean apt(List<String> cmd, Path log) throws IOException, InterruptedException {
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
    Process p = pb.start();
    return p.waitFor(20, TimeUnit.MINUTES) && p.exitValue() == 0;
  }

  private static List<String> missingTools(List<String> tools) {
    List<String> missing = new ArrayList<>();
    for (String tool : tools) {
      boolean found = false;
      for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
        found |= Files.isExecutable(Path.of(d, tool));
      }
      for (String d : List.of("/usr/sbin", "/sbin")) {
        found |= Files.isExecutable(Path.of(d, tool));
      }
      if (!found) {
        missing.add(tool);
      }
    }
    return missing;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TestClusterException("interrupted waiting for the registry", e);
    }
  }
}
