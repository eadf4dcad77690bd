package dev.hearth.e2e;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the repository root, which project-wide checks read. */
public final class ProjectRoot {
  private ProjectRoot() {}

  public static Path find() {
    String configured = System.getProperty("hearth.projectRoot");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured).toAbsolutePath().normalize();
    }
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isRegularFile(dir.resolve("mvnw"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("cannot find the project root (no mvnw above the cwd)");
    }
    return dir;
  }
}
