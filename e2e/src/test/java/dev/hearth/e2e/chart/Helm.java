package dev.hearth.e2e.chart;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.e2e.ClusterTools;
import dev.hearth.e2e.Command;
import dev.hearth.e2e.ProjectRoot;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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

  record Result(int status, String stdout, String stderr) {
    Result assertSucceeded() {
      assertThat(status).as("helm failed:\n%s", stderr).isZero();
      return this;
    }
  }

  private Helm() {}

  /** The helm binary, installed by the project's own script on first use. */
  static Path binary() {
    return ClusterTools.helm();
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
    Command.Result r = Command.run(command, ROOT, Map.of(), Duration.ofSeconds(timeoutSeconds));
    return new Result(r.status(), r.stdout(), r.stderr());
  }
}
