package dev.hearth.agent.image;

import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/** Where a kernel, initrd or disk image comes from. */
public sealed interface ImageSource {
  Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

  /** A file already on the node; checked against {@code sha256} when one is given. */
  record NodeFile(Path path, Optional<String> sha256) implements ImageSource {
    public NodeFile {
      if (!path.isAbsolute()) {
        throw new IllegalArgumentException("node file " + path + " must be an absolute path");
      }
      sha256 = sha256.map(ImageSource::checkDigest);
    }
  }

  /** An http(s) URL; the download must match {@code sha256}, which also keys the cache. */
  record Remote(URI uri, String sha256) implements ImageSource {
    public Remote {
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https")) {
        throw new IllegalArgumentException("image URL " + uri + " is not http(s)");
      }
      sha256 = checkDigest(sha256);
    }
  }

  private static String checkDigest(String digest) {
    String d = digest.toLowerCase(Locale.ROOT);
    if (d.startsWith("sha256:")) {
      d = d.substring("sha256:".length());
    }
    if (!SHA256.matcher(d).matches()) {
      throw new IllegalArgumentException("'" + digest + "' is not a sha256 digest (64 hex digits)");
    }
    return d;
  }
}
