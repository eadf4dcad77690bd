package dev.hearth.agent.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import dev.hearth.api.v1alpha1.HearthApi;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pulls an OCI image into the {@link ImageCache}: resolves the reference to a manifest digest (a
 * tag is asked of the registry on every use, so a moved tag gives the new image), and on a miss
 * downloads the config and layers (each checked against its digest, and each layer's content
 * against the config's diff_id), unpacks them with {@link LayerUnpacker}, and stores either an ext4
 * root disk ({@link Ext4Builder}) or one file from the image. What it stores is keyed by the
 * manifest digest and what was taken from it.
 *
 * <p>A cached image that was pulled with credentials is served again only after the registry has
 * answered the new pull's own credentials for its manifest, so one tenant's private image never
 * reaches another tenant through the node's cache.
 */
final class OciPuller {
  private static final Logger LOG = LoggerFactory.getLogger(OciPuller.class);
  private static final int MAX_CONFIG_BYTES = RegistryClient.MAX_MANIFEST_BYTES;

  private final ImageCache cache;
  private final HttpDownloader http;
  private final OciSettings settings;
  private final Duration total;
  private final Timer pullTime;
  private final Counter pulls;
  private final Counter failures;
  private final DistributionSummary layerBytes;
  private final Counter pulledBytes;

  OciPuller(
      ImageCache cache,
      HttpDownloader http,
      OciSettings settings,
      Duration total,
      MeterRegistry registry) {
    this.cache = cache;
    this.http = http;
    this.settings = settings;
    this.total = total;
    this.pullTime =
        Timer.builder("hearth.image.oci.pull")
            .description("Time to pull and unpack an OCI image on a cache miss")
            .register(registry);
    this.pulls =
        Counter.builder("hearth.image.oci.pulls")
            .description("OCI images pulled and unpacked (cache misses)")
            .tag("result", "ok")
            .register(registry);
    this.failures =
        Counter.builder("hearth.image.oci.pulls")
            .description("OCI images pulled and unpacked (cache misses)")
            .tag("result", "failed")
            .register(registry);
    this.layerBytes =
        DistributionSummary.builder("hearth.image.oci.layer.bytes")
            .description("Compressed bytes of the layers downloaded")
            .baseUnit("bytes")
            .register(registry);
    this.pulledBytes =
        Counter.builder("hearth.image.oci.pulled.bytes")
            .description("Compressed layer bytes downloaded, counted as they arrive")
            .baseUnit("bytes")
            .register(registry);
  }

  Path acquire(ImageRef.Oci source, PullSecrets secrets, String owner, PullProgress progress)
      throws ImageException {
    return acquire(
        source.reference(), source.pullSecrets(), source.file(), false, secrets, owner, progress);
  }

  /** The image's config JSON, cached by manifest digest as its root disk is. */
  Path acquireConfig(ImageRef.OciConfig source, PullSecrets secrets, String owner)
      throws ImageException {
    return acquire(
        source.reference(),
        source.pullSecrets(),
        Optional.empty(),
        true,
        secrets,
        owner,
        PullProgress.NONE);
  }

  /**
   * {@code ref} pinned to the manifest digest its tag names now (asked of the registry with the
   * credentials of {@code pullSecrets}); {@code ref} itself when it pins a digest already. Pulls of
   * the pinned reference all get the same image, however the tag moves meanwhile.
   */
  ImageReference pin(ImageReference ref, List<String> pullSecrets, PullSecrets secrets)
      throws ImageException {
    if (ref.digest().isPresent()) {
      return ref;
    }
    RegistryClient client =
        new RegistryClient(
            http,
            ref,
            credential(ref, pullSecrets, secrets),
            settings.plainHttpRegistries(),
            total);
    String digest = client.manifest(ref.tag().orElseThrow()).digest();
    return new ImageReference(ref.registry(), ref.repository(), ref.tag(), Optional.of(digest));
  }

  private static Optional<RegistryCredential> credential(
      ImageReference ref, List<String> pullSecrets, PullSecrets secrets) throws ImageException {
    for (RegistryCredential c : secrets.load(pullSecrets)) {
      if (c.appliesTo(ref)) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }

  private Path acquire(
      ImageReference ref,
      List<String> pullSecrets,
      Optional<String> file,
      boolean config,
      PullSecrets secrets,
      String owner,
      PullProgress progress)
      throws ImageException {
    Optional<RegistryCredential> credential = credential(ref, pullSecrets, secrets);
    RegistryClient client =
        new RegistryClient(http, ref, credential, settings.plainHttpRegistries(), total);
    Optional<RegistryClient.Fetched> top = Optional.empty();
    String digest;
    if (ref.digest().isPresent()) {
      digest = ref.digest().get();
    } else {
      top = Optional.of(client.manifest(ref.tag().orElseThrow()));
      digest = top.get().digest();
    }
    String key = config ? configKey(digest) : key(digest, file);
    Optional<Path> cached = cache.holdBuilt(key, owner);
    if (cached.isPresent()) {
      if (cache.isPrivate(key) && top.isEmpty()) {
        try {
          client.manifest(digest); // the registry must let this pull's credentials see it
        } catch (ImageException e) {
          cache.releaseOne(key, owner);
          throw e;
        }
      }
      return cached.get();
    }
    final Optional<RegistryClient.Fetched> first = top;
    final boolean withCredentials = credential.isPresent();
    return cache.build(
        key,
        owner,
        withCredentials,
        (work, output) -> {
          long started = System.nanoTime();
          try {
            if (config) {
              pullConfig(client, ref, digest, first, work, output);
            } else {
              pull(client, ref, digest, first, file, work, output, progress);
            }
            pulls.increment();
          } catch (ImageException e) {
            failures.increment();
            throw e;
          } finally {
            pullTime.record(Duration.ofNanos(System.nanoTime() - started));
          }
        });
  }

  /** Fetches the image's config blob (checked against its digest) into {@code output}. */
  private void pullConfig(
      RegistryClient client,
      ImageReference ref,
      String digest,
      Optional<RegistryClient.Fetched> top,
      Path work,
      Path output)
      throws ImageException {
    RegistryClient.Fetched manifest = client.amd64Manifest(ref, digest, top);
    RegistryClient.ImageManifest image = RegistryClient.imageManifest(ref, manifest.bytes());
    diffIds(client, ref, image.config(), work); // the same checks as a pull: linux/amd64, JSON
    try {
      Files.move(work.resolve("config.json"), output, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new ImageException.FetchFailed(ref + ": cannot store the image config", e);
    }
  }

  private void pull(
      RegistryClient client,
      ImageReference ref,
      String digest,
      Optional<RegistryClient.Fetched> top,
      Optional<String> file,
      Path work,
      Path output,
      PullProgress progress)
      throws ImageException {
    RegistryClient.Fetched manifest = client.amd64Manifest(ref, digest, top);
    RegistryClient.ImageManifest image = RegistryClient.imageManifest(ref, manifest.bytes());
    LOG.info("pulling {} ({}, {} layers)", ref, manifest.digest(), image.layers().size());
    List<String> diffIds = diffIds(client, ref, image.config(), work);
    if (diffIds.size() != image.layers().size()) {
      throw unsupported(ref, "the config's diff_ids do not match the manifest's layers");
    }
    Path staging = work.resolve("root");
    LayerUnpacker unpacker =
        new LayerUnpacker(staging, settings.maxUnpackedBytes(), settings.maxEntries());
    long downloading = 0;
    long unpacking = 0;
    String shown = ref.toString();
    long total = image.layers().stream().mapToLong(RegistryClient.Descriptor::size).sum();
    long[] done = {0};
    progress.update(shown, 0, total);
    try {
      Files.createDirectory(staging);
      for (int i = 0; i < image.layers().size(); i++) {
        RegistryClient.Descriptor layer = image.layers().get(i);
        Compression compression = compression(ref, layer.mediaType());
        Path blob = work.resolve("layer-" + i);
        long t0 = System.nanoTime();
        client.blob(
            layer.digest(),
            blob,
            settings.maxUnpackedBytes(),
            n -> {
              done[0] += n;
              pulledBytes.increment(n);
              progress.update(shown, done[0], total);
            });
        layerBytes.record(Files.size(blob));
        long t1 = System.nanoTime();
        downloading += t1 - t0;
        MessageDigest sha = HttpDownloader.sha256();
        // Buffered above the digest too: the tar reader asks for 512-byte records.
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(blob), 1 << 16);
            InputStream tar =
                new BufferedInputStream(
                    new DigestInputStream(compression.open(raw), sha), 1 << 16)) {
          unpacker.apply(tar, layer.digest());
        }
        Files.delete(blob);
        unpacking += System.nanoTime() - t1;
        String diffId = "sha256:" + HexFormat.of().formatHex(sha.digest());
        if (!diffId.equals(diffIds.get(i))) {
          throw new ImageException.ChecksumMismatch(
              ref + ": layer " + layer.digest() + " does not unpack to its diff_id: refused");
        }
      }
      if (unpacker.skipped() > 0) {
        LOG.info("{}: left out {} device nodes and FIFOs", ref, unpacker.skipped());
      }
      long building = System.nanoTime();
      if (file.isEmpty()) {
        Ext4Builder.build(
            staging,
            unpacker.metadata(),
            unpacker.bytes(),
            unpacker.entries(),
            settings.headroomBytes(),
            output);
      } else {
        String name = LayerUnpacker.normalise(file.get(), "(file)");
        Path found = staging;
        for (String part : name.split("/")) {
          found = found.resolve(part);
          if (Files.isSymbolicLink(found)) {
            throw new ImageException.NotFound(
                ref + ": " + file.get() + " is a symbolic link in the image, not a regular file");
          }
        }
        if (!Files.isRegularFile(found, LinkOption.NOFOLLOW_LINKS)) {
          throw new ImageException.NotFound(ref + ": the image has no regular file " + file.get());
        }
        Files.move(found, output, StandardCopyOption.ATOMIC_MOVE);
      }
      LOG.info(
          "pulled {}: {} entries, {} bytes; download {} ms, unpack {} ms, {} {} ms",
          ref,
          unpacker.entries(),
          unpacker.bytes(),
          downloading / 1_000_000,
          unpacking / 1_000_000,
          file.isEmpty() ? "ext4" : "file",
          (System.nanoTime() - building) / 1_000_000);
    } catch (IOException e) {
      throw new ImageException.FetchFailed(
          ref + ": cannot unpack the image on the node: " + e.getMessage(), e);
    }
  }

  private List<String> diffIds(
      RegistryClient client, ImageReference ref, RegistryClient.Descriptor config, Path work)
      throws ImageException {
    Path file = work.resolve("config.json");
    client.blob(config.digest(), file, MAX_CONFIG_BYTES);
    try {
      JsonNode root = RegistryClient.parse(ref, Files.readAllBytes(file));
      String os = root.path("os").asText("linux");
      String arch = root.path("architecture").asText("amd64");
      if (!os.equals("linux") || !arch.equals("amd64")) {
        throw unsupported(ref, "the image is for " + os + "/" + arch + ", not linux/amd64");
      }
      List<String> ids = new ArrayList<>();
      for (JsonNode id : root.path("rootfs").path("diff_ids")) {
        ids.add(id.asText());
      }
      return ids;
    } catch (IOException e) {
      throw new ImageException.FetchFailed("cannot read the config of " + ref, e);
    }
  }

  /** How a layer blob is compressed; the digest is of the blob, the diff_id of the tar. */
  private enum Compression {
    NONE,
    GZIP,
    ZSTD;

    InputStream open(InputStream raw) throws IOException {
      return switch (this) {
        case NONE -> raw;
        case GZIP -> new GZIPInputStream(raw, 1 << 16);
        case ZSTD -> new ZstdInputStreamNoFinalizer(raw);
      };
    }
  }

  private static Compression compression(ImageReference ref, String mediaType)
      throws ImageException {
    return switch (mediaType) {
      case "application/vnd.oci.image.layer.v1.tar+gzip",
          "application/vnd.docker.image.rootfs.diff.tar.gzip" ->
          Compression.GZIP;
      case "application/vnd.oci.image.layer.v1.tar+zstd" -> Compression.ZSTD;
      case "application/vnd.oci.image.layer.v1.tar" -> Compression.NONE;
      default ->
          throw unsupported(
              ref,
              "layer media type '"
                  + mediaType
                  + "' is not supported (tar layers, uncompressed, gzip or zstd)");
    };
  }

  /** The cache key: the manifest digest and what was taken from the image. */
  static String key(String digest, Optional<String> file) {
    String what =
        "hearth-oci-v1\n" + digest + "\n" + file.map(f -> "file:" + f).orElse("rootfs:ext4");
    return HexFormat.of()
        .formatHex(HttpDownloader.sha256().digest(what.getBytes(StandardCharsets.UTF_8)));
  }

  /** The cache key of an image's config JSON. */
  static String configKey(String digest) {
    String what = "hearth-oci-v1\n" + digest + "\nconfig:json";
    return HexFormat.of()
        .formatHex(HttpDownloader.sha256().digest(what.getBytes(StandardCharsets.UTF_8)));
  }

  private static ImageException unsupported(ImageReference ref, String why) {
    return new ImageException(HearthApi.Reasons.IMAGE_UNSUPPORTED, ref + ": " + why, null);
  }
}
