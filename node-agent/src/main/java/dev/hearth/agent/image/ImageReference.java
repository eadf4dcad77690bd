package dev.hearth.agent.image;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An OCI image reference, {@code [registry/]repository[:tag][@sha256:<hex>]}, parsed as the
 * distribution project's reference grammar reads it: the first component is a registry when it
 * holds a '.' or a ':' or is {@code localhost}; otherwise the image is on Docker Hub ({@code
 * docker.io}, whose one-component names live under {@code library/}). A digest, when present, is
 * what is pulled; the tag is then only a label.
 *
 * @param registry host[:port] of the registry ({@code docker.io} for Docker Hub)
 * @param repository the repository path, lowercase
 * @param tag the tag; {@code latest} when neither tag nor digest is given
 * @param digest {@code sha256:<hex>} when the reference pins one
 */
public record ImageReference(
    String registry, String repository, Optional<String> tag, Optional<String> digest) {
  /** The longest reference accepted (the CRD's limit too). */
  public static final int MAX_LENGTH = 512;

  private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
  private static final Pattern HOST =
      Pattern.compile(
          "(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
              + "|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?");

  public ImageReference {
    tag.ifPresent(
        t -> {
          if (!TAG.matcher(t).matches()) {
            throw new IllegalArgumentException("'" + t + "' is not a valid tag");
          }
        });
    digest.ifPresent(
        d -> {
          if (!DIGEST.matcher(d).matches()) {
            throw new IllegalArgumentException(
                "'" + d + "' is not a sha256 digest (sha256: and 64 lowercase hex digits)");
          }
        });
  }

  /** Parses {@code text}; the message of the exception says what is wrong with it. */
  public static ImageReference parse(String text) {
    if (text == null || text.isEmpty() || text.length() > MAX_LENGTH) {
      throw new IllegalArgumentException(
          "an image reference must be 1 to " + MAX_LENGTH + " characters");
    }
    String rest = text;
    Optional<String> digest = Optional.empty();
    int at = rest.indexOf('@');
    if (at >= 0) {
      digest = Optional.of(rest.substring(at + 1));
      rest = rest.substring(0, at);
    }
    Optional<String> tag = Optional.empty();
    int slash = rest.lastIndexOf('/');
    int colon = rest.lastIndexOf(':');
    if (colon > slash) {
      tag = Optional.of(rest.substring(colon + 1));
      rest = rest.substring(0, colon);
    }
    String registry = "docker.io";
    String repository = rest;
    int first = rest.indexOf('/');
    if (first > 0) {
      String head = rest.substring(0, first);
      if (head.contains(".") || head.contains(":") || head.equals("localhost")) {
        if (!HOST.matcher(head).matches()) {
          throw new IllegalArgumentException("'" + head + "' is not a registry host[:port]");
        }
        registry = head.toLowerCase(Locale.ROOT);
        repository = rest.substring(first + 1);
      }
    }
    for (String c : repository.split("/", -1)) {
      if (!COMPONENT.matcher(c).matches()) {
        throw new IllegalArgumentException(
            "'"
                + text
                + "' is not an image reference: repository components are lowercase letters,"
                + " digits and single separators ('.', '_', '__', '-')");
      }
    }
    if (registry.equals("docker.io") && !repository.contains("/")) {
      repository = "library/" + repository;
    }
    if (tag.isEmpty() && digest.isEmpty()) {
      tag = Optional.of("latest");
    }
    return new ImageReference(registry, repository, tag, digest);
  }

  /** The host the registry API is reached on ({@code registry-1.docker.io} for Docker Hub). */
  public String apiHost() {
    return registry.equals("docker.io") ? "registry-1.docker.io" : registry;
  }

  /** The digest if pinned, else the tag: what the manifest is asked for. */
  public String manifestReference() {
    return digest.orElseGet(tag::orElseThrow);
  }

  @Override
  public String toString() {
    return registry
        + "/"
        + repository
        + tag.map(t -> ":" + t).orElse("")
        + digest.map(d -> "@" + d).orElse("");
  }

  /** Whether {@code s} has the shape of a sha256 digest ({@code sha256:<64 hex>}). */
  static boolean isDigest(String s) {
    Matcher m = DIGEST.matcher(s);
    return m.matches();
  }
}
