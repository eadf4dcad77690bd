package dev.hearth.agent.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hearth.api.v1alpha1.HearthApi;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of the OCI distribution API, enough to pull: manifests (an index or a Docker manifest
 * list resolved to its linux/amd64 image), and blobs streamed to a file. Every manifest and blob is
 * checked against the digest that names it before it is used. Authentication answers the registry's
 * challenge: basic credentials, or a bearer token from the realm it names (anonymous or with the
 * credentials). Registries are reached over https, or plain http only for the hosts an
 * administrator listed. Connections go through {@link HttpDownloader}, so {@link Destinations}
 * confines them as it does image URLs; blob redirects are followed (to a CDN, as Docker Hub does),
 * each hop checked again, without the registry's authorization past its own host.
 *
 * <p>One instance pulls one image: it keeps the token it got for the repository.
 */
final class RegistryClient {
  private static final Logger LOG = LoggerFactory.getLogger(RegistryClient.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final int MAX_MANIFEST_BYTES = 4 << 20;
  private static final int MAX_REDIRECTS = 5;
  private static final Pattern CHALLENGE_PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");
  static final String ACCEPT_MANIFESTS =
      String.join(
          ", ",
          "application/vnd.oci.image.index.v1+json",
          "application/vnd.docker.distribution.manifest.list.v2+json",
          "application/vnd.oci.image.manifest.v1+json",
          "application/vnd.docker.distribution.manifest.v2+json");

  private final HttpDownloader http;
  private final ImageReference ref;
  private final Optional<RegistryCredential> credential;
  private final String scheme;
  private final Duration total;
  private String authorization; // null until a challenge asks for one

  RegistryClient(
      HttpDownloader http,
      ImageReference ref,
      Optional<RegistryCredential> credential,
      Set<String> plainHttpRegistries,
      Duration total) {
    this.http = http;
    this.ref = ref;
    this.credential = credential;
    this.scheme = plainHttpRegistries.contains(ref.registry()) ? "http" : "https";
    this.total = total;
  }

  /** A manifest's bytes and the digest they hash to. */
  record Fetched(String digest, byte[] bytes) {}

  /**
   * The manifest {@code reference} names (a tag or a digest), checked against the digest when one
   * is named.
   */
  Fetched manifest(String reference) throws ImageException {
    URI uri = api("/manifests/" + reference);
    long deadline = deadline();
    try (HttpDownloader.Exchange r = get(uri, Map.of("Accept", ACCEPT_MANIFESTS), deadline)) {
      check(uri, r, "manifest " + reference);
      byte[] body;
      try {
        body = r.readBody(MAX_MANIFEST_BYTES);
      } catch (IOException e) {
        throw HttpDownloader.failed(uri, "the manifest is larger than 4 MiB or cut short", e);
      }
      String digest = "sha256:" + HexFormat.of().formatHex(HttpDownloader.sha256().digest(body));
      // By tag, the registry's own Docker-Content-Digest is what the content must hash to.
      String expected =
          ImageReference.isDigest(reference)
              ? reference
              : r.header("docker-content-digest").filter(ImageReference::isDigest).orElse(digest);
      if (!digest.equals(expected)) {
        LOG.warn("{}: manifest {} hashes to {}, not {}", ref, reference, digest, expected);
        throw new ImageException.ChecksumMismatch(
            ref + ": the registry's manifest does not match its digest " + expected);
      }
      return new Fetched(digest, body);
    } catch (SocketTimeoutException e) {
      throw http.timeout(uri, e);
    } catch (IOException e) {
      throw HttpDownloader.failed(uri, "connection failed", e);
    }
  }

  /**
   * Streams blob {@code digest} into {@code target} (0600), at most {@code maxBytes}; refused
   * unless its content hashes to {@code digest}.
   */
  void blob(String digest, Path target, long maxBytes) throws ImageException {
    blob(digest, target, maxBytes, n -> {});
  }

  /** As {@link #blob(String, Path, long)}, telling {@code read} the size of each chunk read. */
  void blob(String digest, Path target, long maxBytes, LongConsumer read) throws ImageException {
    URI uri = api("/blobs/" + digest);
    long deadline = deadline();
    try {
      for (int hop = 0; ; hop++) {
        Map<String, String> headers = new HashMap<>();
        try (HttpDownloader.Exchange r =
            hop == 0 ? get(uri, headers, deadline) : http.open(uri, headers, deadline)) {
          if (r.status() >= 301 && r.status() <= 308 && r.header("location").isPresent()) {
            if (hop == MAX_REDIRECTS) {
              throw HttpDownloader.failed(uri, "more than " + MAX_REDIRECTS + " redirects", null);
            }
            URI next = uri.resolve(r.header("location").get());
            if (!"https".equalsIgnoreCase(next.getScheme())
                && !("http".equalsIgnoreCase(next.getScheme()) && scheme.equals("http"))) {
              throw HttpDownloader.failed(uri, "redirect to a non-https URL refused", null);
            }
            uri = next;
            continue;
          }
          check(uri, r, "blob " + digest);
          String actual = "sha256:" + http.save(uri, r, target, maxBytes, deadline, read);
          if (!actual.equals(digest)) {
            LOG.warn("{}: blob {} hashes to {}", ref, digest, actual);
            throw new ImageException.ChecksumMismatch(
                ref + ": blob " + digest + " does not match its digest: refused");
          }
          return;
        }
      }
    } catch (SocketTimeoutException e) {
      throw http.timeout(uri, e);
    } catch (IOException e) {
      throw HttpDownloader.failed(uri, "connection failed", e);
    }
  }

  /**
   * GET on the registry, answering one authentication challenge: a 401 is retried once with the
   * authorization the challenge asks for.
   */
  private HttpDownloader.Exchange get(URI uri, Map<String, String> headers, long deadline)
      throws IOException, ImageException {
    Map<String, String> h = new HashMap<>(headers);
    if (authorization != null) {
      h.put("Authorization", authorization);
    }
    HttpDownloader.Exchange r = http.open(uri, h, deadline);
    if (r.status() != 401 || authorization != null) {
      return r;
    }
    String challenge = r.header("www-authenticate").orElse("");
    r.close();
    authorization = authorize(uri, challenge, deadline);
    h.put("Authorization", authorization);
    return http.open(uri, h, deadline);
  }

  /** The Authorization value that {@code challenge} asks for. */
  private String authorize(URI uri, String challenge, long deadline)
      throws IOException, ImageException {
    String lower = challenge.toLowerCase(Locale.ROOT);
    if (lower.startsWith("basic")) {
      if (credential.isEmpty()) {
        throw unauthorized();
      }
      return credential.get().basic();
    }
    if (!lower.startsWith("bearer")) {
      throw HttpDownloader.failed(uri, "the registry asks for an unknown authentication", null);
    }
    Map<String, String> params = new HashMap<>();
    Matcher m = CHALLENGE_PARAM.matcher(challenge);
    while (m.find()) {
      params.put(m.group(1).toLowerCase(Locale.ROOT), m.group(2));
    }
    String realm = params.get("realm");
    if (realm == null) {
      throw HttpDownloader.failed(uri, "the registry's bearer challenge names no realm", null);
    }
    StringBuilder q = new StringBuilder();
    if (params.containsKey("service")) {
      q.append("service=").append(URLEncoder.encode(params.get("service"), StandardCharsets.UTF_8));
    }
    String scope = "repository:" + ref.repository() + ":pull";
    q.append(q.isEmpty() ? "" : "&")
        .append("scope=")
        .append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
    URI tokenUri = URI.create(realm + (realm.contains("?") ? "&" : "?") + q);
    if (!"https".equalsIgnoreCase(tokenUri.getScheme()) && !scheme.equals("http")) {
      throw HttpDownloader.failed(uri, "the token realm is not https: refused", null);
    }
    Map<String, String> h = new HashMap<>();
    credential.ifPresent(c -> h.put("Authorization", c.basic()));
    try (HttpDownloader.Exchange r = http.open(tokenUri, h, deadline)) {
      if (r.status() == 401 || r.status() == 403) {
        throw unauthorized();
      }
      if (r.status() != 200) {
        throw HttpDownloader.failed(tokenUri, "token request answered HTTP " + r.status(), null);
      }
      JsonNode token = JSON.readTree(r.readBody(MAX_MANIFEST_BYTES));
      JsonNode t = token.hasNonNull("token") ? token.get("token") : token.get("access_token");
      if (t == null || !t.isTextual() || t.asText().isEmpty()) {
        throw HttpDownloader.failed(tokenUri, "the token answer holds no token", null);
      }
      return "Bearer " + t.asText();
    }
  }

  private void check(URI uri, HttpDownloader.Exchange r, String what) throws ImageException {
    if (r.status() == 200) {
      return;
    }
    if (r.status() == 401 || r.status() == 403) {
      throw unauthorized();
    }
    if (r.status() == 404) {
      throw new ImageException.NotFound(ref + ": the registry has no " + what);
    }
    throw HttpDownloader.failed(uri, what + ": HTTP " + r.status(), null);
  }

  private ImageException unauthorized() {
    return new ImageException(
        HearthApi.Reasons.IMAGE_PULL_UNAUTHORIZED,
        ref
            + ": the registry refused "
            + (credential.isPresent()
                ? "the credentials from the imagePullSecrets"
                : "an anonymous pull (name a Secret with credentials in spec.imagePullSecrets)"),
        null);
  }

  private URI api(String suffix) {
    return URI.create(scheme + "://" + ref.apiHost() + "/v2/" + ref.repository() + suffix);
  }

  private long deadline() {
    return System.nanoTime() + total.toNanos();
  }

  /** An image manifest's parts: the config blob and the layers, bottom first. */
  record ImageManifest(Descriptor config, List<Descriptor> layers) {}

  /** A content descriptor: media type, digest, size. */
  record Descriptor(String mediaType, String digest, long size) {}

  /** The index's linux/amd64 manifest's digest, or empty when {@code bytes} is no index. */
  static Optional<String> platformManifest(ImageReference ref, byte[] bytes) throws ImageException {
    JsonNode root = parse(ref, bytes);
    JsonNode manifests = root.get("manifests");
    if (manifests == null) {
      return Optional.empty();
    }
    for (JsonNode m : manifests) {
      JsonNode p = m.get("platform");
      if (p != null
          && "linux".equals(p.path("os").asText())
          && "amd64".equals(p.path("architecture").asText())) {
        return Optional.of(digestOf(ref, m));
      }
    }
    throw new ImageException(
        HearthApi.Reasons.IMAGE_UNSUPPORTED,
        ref + ": the image index has no linux/amd64 image",
        null);
  }

  /** An image manifest parsed: schema 2, with a config and layers. */
  static ImageManifest imageManifest(ImageReference ref, byte[] bytes) throws ImageException {
    JsonNode root = parse(ref, bytes);
    if (root.path("schemaVersion").asInt() != 2 || !root.has("config") || !root.has("layers")) {
      throw new ImageException(
          HearthApi.Reasons.IMAGE_UNSUPPORTED,
          ref + ": not an OCI or Docker v2 image manifest (schema 1 is not supported)",
          null);
    }
    List<Descriptor> layers = new ArrayList<>();
    for (JsonNode l : root.get("layers")) {
      layers.add(descriptor(ref, l));
    }
    return new ImageManifest(descriptor(ref, root.get("config")), layers);
  }

  private static Descriptor descriptor(ImageReference ref, JsonNode n) throws ImageException {
    return new Descriptor(
        n.path("mediaType").asText(""), digestOf(ref, n), n.path("size").asLong(-1));
  }

  private static String digestOf(ImageReference ref, JsonNode n) throws ImageException {
    String d = n.path("digest").asText("");
    if (!ImageReference.isDigest(d)) {
      throw new ImageException(
          HearthApi.Reasons.IMAGE_UNSUPPORTED,
          ref + ": a descriptor's digest is not sha256 (" + d + ")",
          null);
    }
    return d;
  }

  static JsonNode parse(ImageReference ref, byte[] bytes) throws ImageException {
    try {
      JsonNode n = JSON.readTree(bytes);
      if (n == null || !n.isObject()) {
        throw new IOException("not an object");
      }
      return n;
    } catch (IOException e) {
      throw new ImageException(
          HearthApi.Reasons.IMAGE_UNSUPPORTED, ref + ": a manifest is not JSON", null);
    }
  }

  /**
   * The image manifest for linux/amd64: {@code top} (or the one at {@code digest}), or its entry.
   */
  Fetched amd64Manifest(ImageReference ref, String digest, Optional<Fetched> top)
      throws ImageException {
    Fetched manifest = top.isPresent() ? top.get() : manifest(digest);
    Optional<String> platform = platformManifest(ref, manifest.bytes());
    return platform.isPresent() ? manifest(platform.get()) : manifest;
  }
}
