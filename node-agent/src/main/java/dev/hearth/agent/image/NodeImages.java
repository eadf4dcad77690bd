package dev.hearth.agent.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The node's images root: the only place a spec's {@code path} can name. A path resolves to the
 * real file it names (every symbolic link followed), and only a regular file inside the root's own
 * real path is served. Whatever lies outside, existing or not, gets the same answer as a missing
 * file, so a tenant learns nothing about the rest of the node.
 */
public final class NodeImages {
  private final Path root;

  /** The images under {@code root} (it need not exist yet: until it does, nothing resolves). */
  public NodeImages(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  /** The images root as configured. */
  public Path root() {
    return root;
  }

  /**
   * The real path of {@code file}, checked against its sha256 when it declares one.
   *
   * @throws ImageException.NotFound when it does not resolve to a regular file inside the root
   */
  public Path resolve(ImageRef.NodeFile file) throws ImageException {
    Path named = root.resolve(file.path());
    Path real;
    try {
      Path realRoot = root.toRealPath();
      real = named.toRealPath();
      if (!real.startsWith(realRoot) || real.equals(realRoot) || !Files.isRegularFile(real)) {
        throw notFound(named);
      }
    } catch (IOException e) {
      throw notFound(named);
    }
    if (!Files.isReadable(real)) {
      throw new ImageException.FetchFailed("node image " + named + " is not readable", null);
    }
    if (file.sha256().isPresent()) {
      String actual = ImageCache.sha256Of(real);
      if (!actual.equals(file.sha256().get())) {
        throw new ImageException.ChecksumMismatch(
            "node image "
                + named
                + " has sha256 "
                + actual
                + " but the spec expects "
                + file.sha256().get());
      }
    }
    return real;
  }

  /** One answer for missing, not a file, and outside the root (a link out of it). */
  private ImageException notFound(Path named) {
    return new ImageException.NotFound(
        "node image "
            + named
            + " does not exist or is not a regular file inside the images root "
            + root);
  }
}
