package dev.hearth.agent.image;

import dev.hearth.agent.state.PrivateFiles;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kernels, initrds and disk images for the node's VMs. Remote images land in a content-addressed
 * cache ({@code <root>/sha256/<hex>}) shared by all VMs: a download goes to a temp file, is hashed
 * while it streams, and only a verified file is renamed into place, so a failed or tampered
 * download can never be booted. Each owner (a VM) holds references; unreferenced entries are
 * evicted least-recently-used first once the cache exceeds its size.
 *
 * <p>Cached files are shared and must be used read-only; a VM that writes its disk gets its own
 * copy through {@link WritableCopy}.
 */
public final class ImageCache {
  private static final Logger LOG = LoggerFactory.getLogger(ImageCache.class);
  private final NodeImages nodeImages;
  private final Path blobs;
  private final Path tmp;
  private final long maxBytes;
  private final HttpDownloader downloader;
  private final Path privateMarks;
  private final OciPuller oci;
  private final CacheEntries entries;
  private final Map<String, Set<String>> ownersByDigest = new HashMap<>();
  private final Map<String, Object> downloadLocks = new ConcurrentHashMap<>();
  private final Counter hits;
  private final Counter misses;

  /**
   * @param root where downloads are cached; not inside {@code nodeImages}' root, so that no spec
   *     can name a cached or partial download by path
   * @param nodeImages the images root that node paths resolve under
   */
  public ImageCache(
      Path root, NodeImages nodeImages, long maxBytes, Timeouts timeouts, MeterRegistry registry) {
    this(root, nodeImages, maxBytes, timeouts, Destinations.PUBLIC, registry);
  }

  /**
   * @param destinations which addresses image URLs may reach
   */
  public ImageCache(
      Path root,
      NodeImages nodeImages,
      long maxBytes,
      Timeouts timeouts,
      Destinations destinations,
      MeterRegistry registry) {
    this(root, nodeImages, maxBytes, timeouts, destinations, OciSettings.DEFAULT, registry);
  }

  /**
   * @param destinations which addresses image URLs and registries may reach
   * @param oci how OCI images are pulled
   */
  public ImageCache(
      Path root,
      NodeImages nodeImages,
      long maxBytes,
      Timeouts timeouts,
      Destinations destinations,
      OciSettings oci,
      MeterRegistry registry) {
    this.nodeImages = nodeImages;
    this.blobs = root.resolve("sha256");
    this.tmp = root.resolve("tmp");
    this.privateMarks = root.resolve("private");
    this.maxBytes = maxBytes;
    this.entries = new CacheEntries(blobs, privateMarks);
    this.downloader =
        new HttpDownloader(timeouts.connect(), timeouts.read(), timeouts.total(), destinations);
    try {
      // Tenants' images: readable by the agent alone.
      PrivateFiles.directories(root);
      PrivateFiles.directories(blobs);
      PrivateFiles.directories(tmp);
      PrivateFiles.directories(privateMarks);
      clearPartialDownloads();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare image cache " + root, e);
    }
    this.oci = new OciPuller(this, downloader, oci, timeouts.total(), registry);
    this.hits = counter(registry, "hit");
    this.misses = counter(registry, "miss");
    Gauge.builder("hearth.image.cache.size", this, ImageCache::sizeBytes)
        .baseUnit("bytes")
        .description("Bytes held by the node's image cache")
        .register(registry);
  }

  /** How long a download may take to connect, between reads, and in all. */
  public record Timeouts(Duration connect, Duration read, Duration total) {
    public static final Timeouts DEFAULT =
        new Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofMinutes(10));
  }

  /**
   * A readable path for {@code source}, held for {@code owner} until {@link #release}. A node file
   * is used in place, confined to the images root (and checked when it declares a digest); a remote
   * image is served from the cache, downloading it first on a miss.
   */
  public Path resolve(ImageRef source, String owner) throws ImageException {
    return resolve(source, owner, PullSecrets.NONE);
  }

  /**
   * As {@link #resolve(ImageRef, String)}; an OCI image is pulled with the credentials of the pull
   * Secrets it names, read through {@code secrets}.
   */
  public Path resolve(ImageRef source, String owner, PullSecrets secrets) throws ImageException {
    return resolve(source, owner, secrets, PullProgress.NONE);
  }

  /** As the three-argument form; an OCI pull reports how far it got to {@code progress}. */
  public Path resolve(ImageRef source, String owner, PullSecrets secrets, PullProgress progress)
      throws ImageException {
    return switch (source) {
      case ImageRef.NodeFile f -> nodeImages.resolve(f);
      case ImageRef.Remote r -> acquire(r, owner);
      case ImageRef.Oci o -> oci.acquire(o, secrets, owner, progress);
      case ImageRef.OciConfig c -> oci.acquireConfig(c, secrets, owner);
    };
  }

  /**
   * {@code ref} pinned to the manifest digest its tag names now ({@code ref} itself when it pins
   * one), asked of the registry with the credentials of {@code pullSecrets}: pulls of the pinned
   * reference (an image's config and its root disk) get one image however the tag moves.
   */
  public ImageReference pin(ImageReference ref, List<String> pullSecrets, PullSecrets secrets)
      throws ImageException {
    return oci.pin(ref, pullSecrets, secrets);
  }

  /** Makes an entry's content: {@code output} (absent) from scratch, in {@code work}. */
  @FunctionalInterface
  interface Builder {
    void build(Path work, Path output) throws ImageException;
  }

  /** Entry {@code key} held for {@code owner} when it is cached. */
  Optional<Path> holdBuilt(String key, String owner) {
    Path blob = blobs.resolve(key);
    if (holdIfCached(blob, key, owner)) {
      hits.increment();
      return Optional.of(blob);
    }
    return Optional.empty();
  }

  /** Whether entry {@code key} was made from a pull that needed credentials. */
  boolean isPrivate(String key) {
    return Files.exists(privateMarks.resolve(key));
  }

  /** Drops {@code owner}'s reference to {@code key} alone. */
  synchronized void releaseOne(String key, String owner) {
    Set<String> owners = ownersByDigest.get(key);
    if (owners != null && owners.remove(owner) && owners.isEmpty()) {
      ownersByDigest.remove(key);
    }
  }

  /**
   * Entry {@code key}, built by {@code builder} on a miss (one build per key at a time; a build
   * that fails leaves nothing behind), held for {@code owner}. The result counts against the
   * cache's size and is evicted like a download.
   */
  Path build(String key, String owner, boolean fromPrivate, Builder builder) throws ImageException {
    Path blob = blobs.resolve(key);
    synchronized (downloadLocks.computeIfAbsent(key, d -> new Object())) {
      if (holdIfCached(blob, key, owner)) {
        hits.increment();
        return blob;
      }
      misses.increment();
      Path work = tmp.resolve(key + ".d");
      try {
        CacheEntries.deleteQuietly(work);
        PrivateFiles.directories(work);
        Path output = work.resolve("output");
        builder.build(work, output);
        synchronized (this) {
          long size = Files.size(output);
          if (referencedBytesLocked() + size > maxBytes) {
            throw new ImageException.FetchFailed(
                "the node's image cache (" + maxBytes + " bytes) is full of images in use", null);
          }
          if (fromPrivate) {
            Files.writeString(privateMarks.resolve(key), "");
          } else {
            Files.deleteIfExists(privateMarks.resolve(key));
          }
          Files.move(output, blob, StandardCopyOption.ATOMIC_MOVE);
          ownersByDigest.computeIfAbsent(key, d -> new HashSet<>()).add(owner);
          evictLocked();
        }
        return blob;
      } catch (IOException e) {
        LOG.warn("cannot store image {}", key, e);
        throw new ImageException.FetchFailed("cannot store an image on the node: " + e, e);
      } finally {
        CacheEntries.deleteQuietly(work);
      }
    }
  }

  /** Drops every reference {@code owner} holds; its images become evictable. */
  public synchronized void release(String owner) {
    ownersByDigest.values().forEach(owners -> owners.remove(owner));
    ownersByDigest.values().removeIf(Set::isEmpty);
  }

  /** Drops references of owners not in {@code liveOwners} (after a crash) and evicts. */
  public synchronized void reconcile(Set<String> liveOwners) {
    ownersByDigest.values().forEach(owners -> owners.retainAll(liveOwners));
    ownersByDigest.values().removeIf(Set::isEmpty);
    evictLocked();
  }

  public synchronized Set<String> owners(String sha256) {
    return Set.copyOf(ownersByDigest.getOrDefault(sha256, Set.of()));
  }

  public long sizeBytes() {
    return entries.sizeBytes();
  }

  private Path acquire(ImageRef.Remote source, String owner) throws ImageException {
    String digest = source.sha256();
    Path blob = blobs.resolve(digest);
    if (holdIfCached(blob, digest, owner)) {
      hits.increment();
      return blob;
    }
    synchronized (downloadLocks.computeIfAbsent(digest, d -> new Object())) {
      if (holdIfCached(blob, digest, owner)) {
        hits.increment(); // another VM downloaded it while we waited
        return blob;
      }
      misses.increment();
      Path part = tmp.resolve(digest + ".part");
      try {
        Files.deleteIfExists(part);
        String actual = downloader.download(source.uri(), part, room(source));
        if (!actual.equals(digest)) {
          // The actual digest is the remote body's: the agent's log, not the tenant's status.
          LOG.warn("{} has sha256 {}, not the spec's {}", source.uri(), actual, digest);
          throw new ImageException.ChecksumMismatch(
              source.uri() + ": download failed: the content does not match sha256 " + digest);
        }
        synchronized (this) {
          long size = Files.size(part);
          if (referencedBytesLocked() + size > maxBytes) { // others filled it meanwhile
            throw cacheFull(source);
          }
          Files.move(part, blob, StandardCopyOption.ATOMIC_MOVE);
          ownersByDigest.computeIfAbsent(digest, d -> new HashSet<>()).add(owner);
          evictLocked();
        }
        return blob;
      } catch (IOException e) {
        LOG.warn("cannot store {}", source.uri(), e);
        throw new ImageException.FetchFailed(
            source.uri() + ": download failed: cannot store it on the node", e);
      } finally {
        CacheEntries.deleteQuietly(part);
      }
    }
  }

  /**
   * The most a download may add: the cache's size less what VMs hold (unreferenced entries are
   * evicted to make room), so the cap holds during a download, not only after it.
   */
  private synchronized long room(ImageRef.Remote source) throws ImageException {
    long room = maxBytes - referencedBytesLocked();
    if (room <= 0) {
      throw cacheFull(source);
    }
    return room;
  }

  private long referencedBytesLocked() {
    return entries.bytesOf(ownersByDigest.keySet());
  }

  private void evictLocked() {
    entries.evict(ownersByDigest.keySet(), maxBytes);
  }

  private ImageException cacheFull(ImageRef.Remote source) {
    return new ImageException.FetchFailed(
        source.uri()
            + ": download failed: the node's image cache ("
            + maxBytes
            + " bytes) is full of images in use",
        null);
  }

  private synchronized boolean holdIfCached(Path blob, String digest, String owner) {
    if (!Files.exists(blob)) {
      return false;
    }
    try {
      Files.setLastModifiedTime(blob, FileTime.from(Instant.now())); // LRU clock, kept on disk
    } catch (IOException e) {
      // Only the eviction order suffers.
    }
    ownersByDigest.computeIfAbsent(digest, d -> new HashSet<>()).add(owner);
    return true;
  }

  static String sha256Of(Path p) throws ImageException {
    MessageDigest sha = HttpDownloader.sha256();
    try (InputStream in = Files.newInputStream(p)) {
      byte[] buf = new byte[64 * 1024];
      for (int n; (n = in.read(buf)) >= 0; ) {
        sha.update(buf, 0, n);
      }
    } catch (IOException e) {
      throw new ImageException.FetchFailed("cannot read node file " + p + ": " + e, e);
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  private void clearPartialDownloads() throws IOException {
    try (Stream<Path> files = Files.list(tmp)) {
      files.forEach(CacheEntries::deleteQuietly); // downloads and unpacked images alike
    }
  }

  private static Counter counter(MeterRegistry registry, String result) {
    return Counter.builder("hearth.image.cache.requests")
        .description("Image requests served from the cache (hit) or downloaded (miss)")
        .tag("result", result)
        .register(registry);
  }
}
