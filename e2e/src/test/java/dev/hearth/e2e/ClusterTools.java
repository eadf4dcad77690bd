package dev.hearth.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The helm and kubectl binaries that {@code helm/install-tools.sh} installs once into a cache. */
public final class ClusterTools {
  private static Path dir;

  private ClusterTools() {}

  /** The folder holding {@code helm} and {@code kubectl}, installed on first use. */
  public static synchronized Path dir() {
    if (dir == null) {
      Path root = ProjectRoot.find();
      Command.Result r =
          Command.run(
                  List.of("sh", root.resolve("helm/install-tools.sh").toString()),
                  root,
                  Map.of(),
                  Duration.ofMinutes(5))
              .orFail("helm/install-tools.sh");
      Path found = Path.of(r.stdout().strip().lines().reduce((a, b) -> b).orElseThrow());
      if (!Files.isExecutable(found.resolve("helm"))
          || !Files.isExecutable(found.resolve("kubectl"))) {
        throw new AssertionError(
            "helm/install-tools.sh printed " + found + ", which lacks helm or kubectl");
      }
      dir = found;
    }
    return dir;
  }

  /** The helm binary. */
  public static Path helm() {
    return dir().resolve("helm");
  }

  /** The kubectl binary. */
  public static Path kubectl() {
    return dir().resolve("kubectl");
  }
}
