package dev.hearth.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.e2e.ProjectRoot;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs the helm binary that {@code helm/install-tools.sh} installs (once, into a cache) against the
 * chart in {@code helm/hearth}, and parses what it renders.
 */
final class Helm {
  static final Path ROOT = ProjectRoot.find();
  static final Path CHART = ROOT.resolve("helm/hearth");
  static final String RELEASE = "hearth";
  static final String NAMESPACE = "hearth-system";

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final Map<List<String>, Rendered> RENDERED = new ConcurrentHashMap<>();
  private static Path binary;

  record Result(int status, String stdout, String stderr) {
    Result assertSucceeded() {
      assertThat(status).as("helm failed:\n%s", stderr).isZero();
      return this;
    }
  }

  private Helm() {}

  /** The helm binary, installed by the project's own script on first use. */
  static synchronized Path binary() {
    if (binary == null) {
      Result r = run(List.of("sh", ROOT.resolve("helm/install-tools.sh").toString()), 300);
      assertThat(r.status()).as("helm/install-tools.sh failed:\n%s", r.stderr()).isZero();
      binary = Path.of(r.stdout().strip().lines().reduce((a, b) -> b).orElseThrow(), "helm");
      assertThat(binary).isExecutable();
    }
    return binary;
  }

  /** Runs helm with the given arguments. */
  static Result helm(String... args) {
    List<String> command = new ArrayList<>();
    command.add(binary().toString());
    command.addAll(List.of(args));
    return run(command, 60);
  }

  /** {@code helm template} of the chart with extra arguments (such as --set), as a result. */
  static Result template(String... extraArgs) {
    List<String> args = new ArrayList<>(List.of("template", RELEASE, CHART.toString()));
    args.addAll(List.of("--namespace", NAMESPACE));
    args.addAll(List.of(extraArgs));
    return helm(args.toArray(String[]::new));
  }

  /**
   * The chart rendered with extra arguments, which must succeed, parsed into typed objects. Renders
   * are remembered by their arguments, as several tests read the same one.
   */
  static Rendered render(String... extraArgs) {
    return RENDERED.computeIfAbsent(
        List.of(extraArgs),
        args -> new Rendered(parse(template(extraArgs).assertSucceeded().stdout())));
  }

  static List<HasMetadata> parse(String yaml) {
    List<HasMetadata> objects = new ArrayList<>();
    for (String doc : yaml.split("(?m)^---\\s*$")) {
      if (doc.lines().allMatch(l -> l.isBlank() || l.strip().startsWith("#"))) {
        continue;
      }
      objects.add(SERIALIZATION.unmarshal(doc));
    }
    return objects;
  }

  private static Result run(List<String> command, int timeoutSeconds) {
    try {
      Path out = Files.createTempFile("helm", ".out");
      Path err = Files.createTempFile("helm", ".err");
      try {
        Process p =
            new ProcessBuilder(command)
                .directory(ROOT.toFile())
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new AssertionError(command + " ran longer than " + timeoutSeconds + " s");
        }
        return new Result(
            p.exitValue(),
            Files.readString(out, StandardCharsets.UTF_8),
            Files.readString(err, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new AssertionError("cannot run " + command + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted running " + command, e);
    }
  }
}
