package dev.hearth.agent.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.hearth.agent.net.CommandRunner;
import dev.hearth.agent.net.HostCommands;
import dev.hearth.agent.net.NetNamespace;
import dev.hearth.vmm.harness.TestGuest;
import dev.hearth.vmm.testing.BuiltGuests;
import dev.hearth.vmm.testing.RequiresKvm;
import dev.hearth.vmm.testing.RequiresLinuxKvm;
import dev.hearth.vmm.testing.RequiresRoot;
import dev.hearth.vmm.vm.LinuxKvmProbe;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every file in {@code examples/} (but those naming a {@code spec.container} image) boots with
 * {@code hearth run}: the real command, as a process (the CLI's main on this test's class path),
 * with an images folder holding the test guests under the names the examples use ({@code
 * hello.elf}; the Linux test guest under {@code linux/}).
 *
 * <p>"Boots" means the guest's own output reaches the console: the tiny guest's greeting; the Linux
 * test guest's init line ({@code HEARTH-GUEST-READY}); for an example with a network, also the
 * init's {@code HEARTH-NET ip=<a> dev=eth0} with the address hearth run printed first. A VM still
 * running then is stopped as Ctrl-C would stop it, and a networked run must leave no bridge, tap or
 * nftables table behind. A networked example runs in a network namespace of its own, so the test
 * never touches the host's network.
 *
 * <p>The tiny guest runs wherever KVM does; the Linux examples need a KVM that runs Linux, which on
 * a host whose KVM only emulates (or that has none) means inside the nested-KVM harness: this
 * module's {@code NestedKvmSuiteIT} runs them there by their {@link RequiresLinuxKvm} tag.
 */
class ExamplesKvmIT {
  private static final Duration BOOT_LIMIT = Duration.ofMinutes(3);
  private static final Duration STOP_LIMIT = Duration.ofMinutes(1);
  private static final String HELLO = "Hello from a Hearth guest!";
  private static final Pattern ADDRESS = Pattern.compile("hearth: eth0: ([0-9.]+)/\\d+, ");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @TempDir static Path dir;

  /** One file of examples/ and what booting it needs. */
  record Example(Path file, String name, boolean linux, boolean networked) {
    @Override
    public String toString() {
      return file.getFileName().toString();
    }
  }

  static Stream<Example> tinyGuestExamples() throws IOException {
    return examples().stream().filter(e -> !e.linux() && !e.networked());
  }

  static Stream<Example> linuxExamples() throws IOException {
    return examples().stream().filter(e -> e.linux() && !e.networked());
  }

  static Stream<Example> networkedExamples() throws IOException {
    return examples().stream().filter(Example::networked);
  }

  // Each kind is a parameterized test, not a factory: a host that lacks what one needs then shows
  // each example as skipped, with the reason (a skipped factory vanishes from the report).
  @ParameterizedTest(name = "{0}")
  @MethodSource("tinyGuestExamples")
  @RequiresKvm
  void aTinyGuestExampleBoots(Example e) throws Exception {
    boots(e);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("linuxExamples")
  @RequiresLinuxKvm
  void aLinuxExampleBoots(Example e) throws Exception {
    boots(e);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("networkedExamples")
  @RequiresLinuxKvm
  @RequiresRoot
  void aNetworkedExampleBootsWithItsAddressAndLeavesNothingBehind(Example e) throws Exception {
    boots(e);
  }

  /**
   * restartPolicy Always with a guest that ends: hearth run boots it again after the agent's
   * back-off, and again, until SIGTERM stops it, which it does at once, also during a back-off.
   */
  @Test
  @RequiresKvm
  void aGuestThatEndsBootsAgainUnderRestartAlwaysUntilStopped() throws Exception {
    Path images = images(false);
    Path manifest =
        Files.writeString(
            dir.resolve("hello-again.yaml"),
            """
            apiVersion: hearth.dev/v1alpha1
            kind: MicroVM
            metadata: {name: hello-again}
            spec:
              memoryMiB: 16
              kernel: {source: {path: hello.elf}}
              restartPolicy: Always
            """);
    try (HearthProcess run = HearthProcess.start(manifest, images)) {
      String again = "hearth: restartPolicy Always: booting hello-again again in ";
      run.await(again + "1000 ms (restart 1;", BOOT_LIMIT);
      run.await(again + "2000 ms (restart 2;", BOOT_LIMIT);
      assertThat(run.output()).containsOnlyOnce(again + "2000 ms");
      // Stopped during the second back-off, with no boot after it.
      Instant stopping = Instant.now();
      assertThat(run.stop()).isEqualTo(143);
      assertThat(Duration.between(stopping, Instant.now())).isLessThan(Duration.ofSeconds(10));
      assertThat(run.output().split(Pattern.quote(HELLO), -1)).as("boots").hasSize(3);
      assertThat(run.output())
          .doesNotContain(again + "4000 ms")
          .contains("hearth: stopped hello-again (interrupted)");
    }
  }

  /**
   * Boots {@code e} with hearth run until the guest's own output is on its console (and, with a
   * network, its address), then stops it as Ctrl-C would.
   */
  private static void boots(Example e) throws Exception {
    Path images = images(e.linux());
    String marker = e.linux() ? TestGuest.locate().marker() : HELLO;
    Optional<String> netns = Optional.empty();
    CommandRunner host = HostCommands.host();
    if (e.networked()) {
      netns = Optional.of("hrx-" + UUID.randomUUID().toString().substring(0, 8));
      host.run("ip", "netns", "add", netns.get());
    }
    try (InProcess run = InProcess.start(e.file(), images, netns)) {
      String kernel = images.resolve(kernelPath(e.file())).toString();
      assertThat(LinuxKvmProbe.looksLikeLinux(Path.of(kernel)))
          .as("%s's kernel %s is a Linux kernel", e, kernel)
          .isEqualTo(e.linux());
      run.await(marker);
      if (e.networked()) {
        Matcher address = ADDRESS.matcher(run.await("hearth: eth0: "));
        assertThat(address.find()).as("hearth run's address line").isTrue();
        // The init configures ip= after its first line and before its last.
        run.await("HEARTH-GUEST-DONE");
        assertThat(run.output())
            .as("the guest's console")
            .contains("HEARTH-NET ip=" + address.group(1) + " dev=eth0");
      }
      int status = run.stop();
      assertThat(status).as("exit status; output:%n%s", run.output()).isIn(0, LocalRunner.STOPPED);
      assertThat(run.output()).contains("hearth: booting " + e.name() + " ");
      if (netns.isPresent()) {
        CommandRunner ns = HostCommands.inNamespace(netns.get());
        assertThat(ns.run("ip", "-br", "link", "show"))
            .as("links left in the run's namespace")
            .doesNotContainPattern("(?m)^(hearth-run|hr[0-9])");
        assertThat(ns.run("nft", "list", "tables")).as("nftables tables left").isBlank();
      }
    } finally {
      netns.ifPresent(n -> host.run("ip", "netns", "del", n));
    }
  }

  /**
   * hearth run's whole path ({@link LocalRun}, as the CLI runs it) on a thread of this JVM, in the
   * network namespace {@code netns} where given (the run's bridge, taps and rules, and the VMM's
   * taps, all made there). In-process, because inside the nested-KVM machine each JVM start costs a
   * minute or more of emulated class loading; {@link
   * #aGuestThatEndsBootsAgainUnderRestartAlwaysUntilStopped} runs the command as a process.
   */
  private static final class InProcess implements AutoCloseable {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final LocalRun run;

    private InProcess(Path images) {
      this.run =
          LocalRun.onThisHost(
              images,
              images.resolveSibling("cache"),
              new LocalNetwork.Settings(
                  Optional.empty(), Optional.empty(), LocalNetwork.STATE_ROOT),
              new PrintStream(out, true, StandardCharsets.UTF_8));
    }

    static InProcess start(Path manifest, Path images, Optional<String> netns) {
      InProcess p = new InProcess(images);
      Thread.ofPlatform()
          .name("hearth-run-" + manifest.getFileName())
          .start(
              () -> {
                try {
                  p.exit.complete(
                      netns.isPresent()
                          ? NetNamespace.call(
                              NetNamespace.named(netns.get()), () -> p.run.run(manifest, p.out))
                          : p.run.run(manifest, p.out));
                } catch (Throwable t) {
                  p.exit.completeExceptionally(t);
                }
              });
      return p;
    }

    String output() {
      return out.toString(StandardCharsets.UTF_8);
    }

    /** Waits until the output holds {@code text}; returns the output from its line on. */
    String await(String text) throws InterruptedException {
      Instant end = Instant.now().plus(BOOT_LIMIT);
      while (Instant.now().isBefore(end)) {
        boolean ended = exit.isDone();
        String o = output();
        int at = o.indexOf(text);
        if (at >= 0) {
          return o.substring(o.lastIndexOf('\n', at) + 1);
        }
        if (ended) {
          throw new AssertionError(
              "hearth run ended (" + outcome() + ") without printing '" + text + "':\n" + o);
        }
        Thread.sleep(100);
      }
      throw new AssertionError(
          "hearth run did not print '" + text + "' within " + BOOT_LIMIT + ":\n" + output());
    }

    /** Stops the run as Ctrl-C would, unless it has ended; returns its exit status. */
    int stop() throws Exception {
      run.stop();
      try {
        return exit.get(STOP_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        throw new AssertionError("hearth run did not stop within " + STOP_LIMIT + ":\n" + output());
      }
    }

    private String outcome() {
      try {
        return "exit status " + exit.getNow(null);
      } catch (CompletionException e) {
        return String.valueOf(e.getCause());
      }
    }

    @Override
    public void close() throws ExecutionException, TimeoutException {
      if (!exit.isDone()) {
        run.stop();
        try {
          exit.handle((s, t) -> s).get(STOP_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while stopping hearth run", e);
        }
      }
    }
  }

  /** Every file in examples/, read as hearth run reads it. */
  private static List<Example> examples() throws IOException {
    Path folder = Path.of(System.getProperty("hearth.examples", "../examples"));
    List<Example> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(folder)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        JsonNode doc = YAML.readTree(f.toFile());
        boolean set = doc.path("kind").asText().equals("MicroVMSet");
        JsonNode spec = set ? doc.path("spec").path("template").path("spec") : doc.path("spec");
        if (spec.has("container")) {
          // Its image comes from a registry and it boots the node's container kernel; that path
          // runs in the nested harness (e2e ContainerEntrypointKvmIT), with a registry of its own.
          continue;
        }
        String name = doc.path("metadata").path("name").asText() + (set ? "-0" : "");
        out.add(
            new Example(
                f.toAbsolutePath(),
                name,
                kernelPath(f).startsWith("linux/"),
                !spec.path("network").isEmpty()));
      }
    }
    assertThat(out).as("examples in " + folder.toAbsolutePath()).isNotEmpty();
    return out;
  }

  private static String kernelPath(Path file) throws IOException {
    JsonNode doc = YAML.readTree(file.toFile());
    JsonNode spec = doc.path("spec").has("template") ? doc.path("spec").path("template") : doc;
    return spec.path("spec").path("kernel").path("source").path("path").asText();
  }

  /**
   * An images folder with the names the examples use: the tiny guests from the vmm build, and with
   * {@code linux}, the Linux test guest's files under {@code linux/}.
   */
  private static synchronized Path images(boolean linux) throws IOException {
    Path root = Files.createDirectories(dir.resolve("images"));
    place(BuiltGuests.elf("hello"), root.resolve("hello.elf"));
    if (linux) {
      TestGuest guest = TestGuest.locate();
      Path l = Files.createDirectories(root.resolve("linux"));
      for (Map.Entry<String, Path> f :
          Map.of(
                  "vmlinux", guest.vmlinux(),
                  "bzImage", guest.bzImage(),
                  "initramfs.cpio.gz", guest.initramfs(),
                  "rootfs.ext4", guest.rootfs())
              .entrySet()) {
        place(f.getValue(), l.resolve(f.getKey()));
      }
    }
    return root;
  }

  /** A hard link where the file system allows it, else a copy: the images root takes no links. */
  private static void place(Path from, Path to) throws IOException {
    if (Files.exists(to)) {
      return;
    }
    try {
      Files.createLink(to, from);
    } catch (IOException | UnsupportedOperationException e) {
      Files.copy(from, to);
    }
  }
}
