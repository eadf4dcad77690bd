package dev.hearth.e2e.node;

import dev.hearth.e2e.ProjectRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Test guests copied into the chart's images root on the shared real node, and taken away again:
 * {@link #restore} leaves {@link #DATA_DIR} as the class found it.
 */
final class NodeGuests {
  /** The chart's agent.dataDir; node images live under its images/. */
  static final Path DATA_DIR = Path.of("/var/lib/hearth");

  /** The vmm test build's tiny guests. */
  static final Path GUESTS =
      Path.of(
          System.getProperty(
              "hearth.guests", ProjectRoot.find().resolve("vmm/target/guests").toString()));

  private final boolean dataDirExisted = Files.exists(DATA_DIR);
  private final List<Path> copied = new ArrayList<>();

  /** Copies the test guest {@code name} (say {@code idle.elf}) into the images root. */
  Path copy(String name) throws IOException {
    Path to = Files.createDirectories(DATA_DIR.resolve("images")).resolve(name);
    Files.copy(GUESTS.resolve(name), to, StandardCopyOption.REPLACE_EXISTING);
    copied.add(to);
    return to;
  }

  /** Removes what {@link #copy} put there, and the data folder if it was not there before. */
  void restore() throws IOException {
    for (Path p : copied) {
      Files.deleteIfExists(p);
    }
    if (!dataDirExisted) {
      NodeHost.deleteTree(DATA_DIR);
    }
  }
}
