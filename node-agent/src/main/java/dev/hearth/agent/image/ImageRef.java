package dev.hearth.agent.image;

import dev.hearth.api.v1alpha1.ImageSource;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/** Where a kernel, initrd or disk image comes from. */
public sealed interface ImageRef {
  Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

  /**
   * A file under the node's images root, named by its path relative to the root (the CRD's rules:
   * no leading '/', no '.', '..' or empty segments, no control characters, at most {@value
   * ImageSource#MAX_PATH_LENGTH} characters); checked against {@code sha256} when one is given.
   * {@link NodeImages} resolves it, confined to the root.
   */
  record NodeFile(String path, Optional<String> sha256) implements ImageRef {
    public NodeFile {
      checkRelative(path);
      sha256 = sha256.map(ImageRef::checkDigest);
    }
  }

  /** An http(s) URL; the download must match {@code sha256}, which also keys the cache. */
  record Remote(URI uri, String sha256) implements ImageRef {
    public Remote {
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https")) {
        throw new IllegalArgumentException("image URL " + uri + " is not http(s)");
      }
      sha256 = checkDigest(sha256);
    }
  }

  /**
   * An OCI image in a registry. Without {@code file} it is the VM's root disk: its layers unpacked
   * into an ext4 image. With {@code file} it is one regular file inside the image (a kernel or
   * initrd, as KubeVirt's containerDisk ships them), named by its path from the image's root.
   *
   * @param pullSecrets names of Secrets in the VM's namespace whose registry credentials may be
   *     used for the pull (kubernetes.io/dockerconfigjson)
   */
  record Oci(ImageReference reference, Optional<String> file, List<String> pullSecrets)
      implements ImageRef {
    public Oci {
      file.ifPresent(ImageRef::checkRelative);
      pullSecrets = List.copyOf(pullSecrets);
    }
  }

  /**
   * The config of an OCI image (its JSON: Entrypoint, Cmd, Env, WorkingDir, User), for a container
   * VM; pulled and cached as the image is.
   *
   * @param pullSecrets as {@link Oci#pullSecrets}
   */
  record OciConfig(ImageReference reference, List<String> pullSecrets) implements ImageRef {
    public OciConfig {
      pullSecrets = List.copyOf(pullSecrets);
    }
  }

  private static void checkRelative(String path) {
    if (path.isEmpty() || path.length() > ImageSource.MAX_PATH_LENGTH) {
      throw new IllegalArgumentException(
          "an image path must be 1 to " + ImageSource.MAX_PATH_LENGTH + " characters");
    }
    if (path.startsWith("/")) {
      throw new IllegalArgumentException(
          "image path '" + path + "' must be relative to the images root, without a leading '/'");
    }
    if (path.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      throw new IllegalArgumentException("an image path must not contain control characters");
    }
    for (String segment : path.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw new IllegalArgumentException(
            "image path '" + path + "' must not contain '.', '..' or empty segments");
      }
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
