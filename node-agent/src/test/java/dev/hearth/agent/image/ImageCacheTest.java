package dev.hearth.agent.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageCacheTest {
  @TempDir Path dir;
  private HttpServer server;
  private final Map<String, byte[]> served = new ConcurrentHashMap<>();
  private final Map<String, Integer> requests = new ConcurrentHashMap<>();
  private final CountDownLatch release = new CountDownLatch(1);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @BeforeEach
  void serve() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        ex -> {
          String path = ex.getRequestURI().getPath();
          requests.merge(path, 1, Integer::sum);
          if (path.equals("/stall")) {
            ex.sendResponseHeaders(200, 1000);
            ex.getResponseBody().write(new byte[10]);
            ex.getResponseBody().flush();
            awaitQuietly();
            ex.close();
            return;
          }
          if (path.equals("/redirect")) {
            ex.getResponseHeaders().add("Location", url("/vmlinux").toString());
            ex.sendResponseHeaders(302, -1);
            ex.close();
            return;
          }
          if (path.startsWith("/chunked")) { // no Content-Length: chunked, as a stream would be
            byte[] body = served.get(path);
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
              for (int i = 0; i < body.length; i += 7) {
                out.write(body, i, Math.min(7, body.length - i));
                out.flush();
              }
            } catch (IOException e) {
              // The client hung up on an oversized body.
            }
            ex.close();
            return;
          }
          byte[] body = served.get(path);
          if (body == null) {
            ex.sendResponseHeaders(404, -1);
          } else {
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
              out.write(body);
            }
          }
          ex.close();
        });
    server.start();
  }

  private void awaitQuietly() {
    try {
      release.await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @AfterEach
  void stop() {
    release.countDown();
    server.stop(0);
  }

  private URI url(String path) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
  }

  private ImageCache cache(long maxBytes) {
    return cache(maxBytes, Duration.ofSeconds(10));
  }

  private ImageCache cache(long maxBytes, Duration readTimeout) {
    return cache(maxBytes, readTimeout, Destinations.ANY); // the test server is on loopback
  }

  private ImageCache cache(long maxBytes, Duration readTimeout, Destinations destinations) {
    return new ImageCache(
        dir.resolve("cache"),
        new NodeImages(dir),
        maxBytes,
        new ImageCache.Timeouts(Duration.ofSeconds(10), readTimeout, Duration.ofSeconds(20)),
        destinations,
        registry);
  }

  private static String sha(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  private ImageRef.Remote publish(String path, String content) throws Exception {
    byte[] b = content.getBytes(StandardCharsets.UTF_8);
    served.put(path, b);
    return new ImageRef.Remote(url(path), sha(b));
  }

  private double count(String result) {
    return registry.get("hearth.image.cache.requests").tag("result", result).counter().count();
  }

  @Test
  void aDownloadIsVerifiedCachedAndSharedByContent() throws Exception {
    ImageCache cache = cache(1 << 20);
    ImageRef.Remote kernel = publish("/vmlinux", "kernel bytes");
    Path first = cache.resolve(kernel, "vm-a");
    Path second = cache.resolve(kernel, "vm-b");
    assertThat(first).isEqualTo(second).hasContent("kernel bytes");
    assertThat(first.getFileName().toString()).isEqualTo(kernel.sha256());
    assertThat(requests.get("/vmlinux")).isEqualTo(1);
    assertThat(count("miss")).isEqualTo(1);
    assertThat(count("hit")).isEqualTo(1);
    assertThat(cache.owners(kernel.sha256())).containsExactlyInAnyOrder("vm-a", "vm-b");
  }

  @Test
  void aChecksumMismatchIsItsOwnErrorAndLeavesNoFile() throws Exception {
    ImageCache cache = cache(1 << 20);
    served.put("/tampered", "evil".getBytes(StandardCharsets.UTF_8));
    var src = new ImageRef.Remote(url("/tampered"), sha("good".getBytes(StandardCharsets.UTF_8)));
    assertThatThrownBy(() -> cache.resolve(src, "vm"))
        .isInstanceOf(ImageException.ChecksumMismatch.class)
        .hasMessageContaining("/tampered: download failed: the content does not match")
        .hasMessageNotContaining(sha("evil".getBytes(StandardCharsets.UTF_8))) // the remote's
        .extracting(e -> ((ImageException) e).reason())
        .isEqualTo("ImageChecksumMismatch");
    assertNoFilesUnder(dir.resolve("cache"));
  }

  @Test
  void byDefaultTheNodeItselfIsNotAnImageServer() throws Exception {
    var kernel = publish("/vmlinux", "kernel bytes");
    for (Destinations d :
        new Destinations[] {Destinations.PUBLIC, Destinations.PUBLIC_AND_PRIVATE}) {
      assertThatThrownBy(() -> cache(1 << 20, Duration.ofSeconds(10), d).resolve(kernel, "vm"))
          .isInstanceOf(ImageException.FetchFailed.class)
          .hasMessageEndingWith("download failed: destination refused: loopback address");
    }
    var metadata =
        new ImageRef.Remote(URI.create("http://169.254.169.254/latest/"), kernel.sha256());
    assertThatThrownBy(
            () ->
                cache(1 << 20, Duration.ofSeconds(10), Destinations.PUBLIC_AND_PRIVATE)
                    .resolve(metadata, "vm"))
        .hasMessageEndingWith("destination refused: link-local address");
    assertThat(requests).isEmpty();
    assertNoFilesUnder(dir.resolve("cache"));
  }

  @Test
  void aRedirectIsNotFollowed() throws Exception {
    var kernel = publish("/vmlinux", "kernel bytes");
    var redirected = new ImageRef.Remote(url("/redirect"), kernel.sha256());
    assertThatThrownBy(() -> cache(1 << 20).resolve(redirected, "vm"))
        .isInstanceOf(ImageException.FetchFailed.class)
        .hasMessageContaining("download failed: redirect not followed (HTTP 302)");
    assertThat(requests).doesNotContainKey("/vmlinux");
  }

  @Test
  void anOversizedBodyIsCutOffWhetherDeclaredOrStreamed() throws Exception {
    var declared = publish("/big", "x".repeat(100));
    assertThatThrownBy(() -> cache(50).resolve(declared, "vm"))
        .hasMessageContaining("download failed: larger than the 50 bytes allowed");
    var streamed = publish("/chunked-big", "x".repeat(100));
    assertThatThrownBy(() -> cache(50).resolve(streamed, "vm"))
        .hasMessageContaining("download failed: larger than the 50 bytes allowed");
    assertNoFilesUnder(dir.resolve("cache"));
    var small = publish("/chunked-small", "a chunked body of some length");
    assertThat(cache(50).resolve(small, "vm")).hasContent("a chunked body of some length");
  }

  @Test
  void imagesInUseBoundWhatANewDownloadMayAdd() throws Exception {
    ImageCache cache = cache(25);
    cache.resolve(publish("/a", "aaaaaaaaaa"), "vm-1");
    cache.resolve(publish("/b", "bbbbbbbbbb"), "vm-2");
    var c = publish("/c", "cccccccccc"); // 10 bytes, 5 left while a and b are in use
    assertThatThrownBy(() -> cache.resolve(c, "vm-3"))
        .hasMessageContaining("download failed: larger than the 5 bytes allowed");
    cache.resolve(publish("/d", "ddddd"), "vm-4");
    assertThatThrownBy(() -> cache.resolve(c, "vm-3"))
        .hasMessageContaining("download failed: the node's image cache (25 bytes) is full");
    cache.release("vm-1");
    assertThat(cache.resolve(c, "vm-3")).hasContent("cccccccccc");
    assertThat(cache.sizeBytes()).isLessThanOrEqualTo(25);
  }

  @Test
  void aMissingUrlIsNotFound() throws Exception {
    ImageCache cache = cache(1 << 20);
    var src = new ImageRef.Remote(url("/nope"), sha(new byte[0]));
    assertThatThrownBy(() -> cache.resolve(src, "vm"))
        .isInstanceOf(ImageException.NotFound.class)
        .hasMessageContaining("/nope answered HTTP 404");
    assertNoFilesUnder(dir.resolve("cache"));
  }

  @Test
  void aStalledDownloadTimesOutAndLeavesNoPartialFile() throws Exception {
    ImageCache cache = cache(1 << 20, Duration.ofMillis(300));
    var src = new ImageRef.Remote(url("/stall"), sha(new byte[1000]));
    assertThatThrownBy(() -> cache.resolve(src, "vm"))
        .isInstanceOf(ImageException.Timeout.class)
        .extracting(e -> ((ImageException) e).reason())
        .isEqualTo("ImageDownloadTimeout");
    assertNoFilesUnder(dir.resolve("cache"));
  }

  @Test
  void unreferencedImagesAreEvictedLeastRecentlyUsedFirst() throws Exception {
    ImageCache cache = cache(25); // room for two 10-byte images
    var a = publish("/a", "aaaaaaaaaa");
    var b = publish("/b", "bbbbbbbbbb");
    var c = publish("/c", "cccccccccc");
    Path pa = cache.resolve(a, "vm-1");
    Path pb = cache.resolve(b, "vm-2");
    Files.setLastModifiedTime(pa, java.nio.file.attribute.FileTime.fromMillis(1_000));
    cache.release("vm-1");
    cache.release("vm-2");
    cache.resolve(c, "vm-3");
    assertThat(pa).doesNotExist(); // least recently used, unreferenced
    assertThat(pb).exists();
    cache.resolve(a, "vm-4"); // downloaded again; b is the only unreferenced entry
    assertThat(pb).doesNotExist();
    assertThat(cache.sizeBytes()).isEqualTo(20);
    assertThat(requests.get("/a")).isEqualTo(2);
  }

  @Test
  void referencedImagesAreNeverEvicted() throws Exception {
    ImageCache cache = cache(20);
    Path pa = cache.resolve(publish("/a", "aaaaaaaaaa"), "vm-1");
    Path pb = cache.resolve(publish("/b", "bbbbbbbbbb"), "vm-2");
    var c = publish("/c", "cccccccccc");
    assertThatThrownBy(() -> cache.resolve(c, "vm-3")).hasMessageContaining("is full");
    assertThat(pa).exists();
    assertThat(pb).exists();
    cache.reconcile(java.util.Set.of("vm-2")); // vm-1 is gone: its image may make room
    cache.resolve(c, "vm-3");
    assertThat(pa).doesNotExist();
    assertThat(pb).exists();
  }

  @Test
  void aPartialDownloadFromACrashIsRemovedOnStart() throws Exception {
    Path part = dir.resolve("cache/tmp/abc.part");
    Files.createDirectories(part.getParent());
    Files.writeString(part, "half");
    cache(100);
    assertThat(part).doesNotExist();
  }

  @Test
  void nodeFilesAreUsedInPlaceAndCheckedWhenTheyDeclareADigest() throws Exception {
    ImageCache cache = cache(100);
    Path kernel = Files.writeString(dir.resolve("vmlinux"), "k").toRealPath();
    assertThat(cache.resolve(new ImageRef.NodeFile("vmlinux", Optional.empty()), "vm"))
        .isEqualTo(kernel);
    assertThat(
            cache.resolve(
                new ImageRef.NodeFile(
                    "vmlinux", Optional.of(sha("k".getBytes(StandardCharsets.UTF_8)))),
                "vm"))
        .isEqualTo(kernel);
    assertThatThrownBy(
            () ->
                cache.resolve(
                    new ImageRef.NodeFile("vmlinux", Optional.of(sha(new byte[0]))), "vm"))
        .isInstanceOf(ImageException.ChecksumMismatch.class);
    assertThatThrownBy(() -> cache.resolve(new ImageRef.NodeFile("none", Optional.empty()), "vm"))
        .isInstanceOf(ImageException.NotFound.class)
        .hasMessageContaining("none does not exist");
  }

  @Test
  void sourcesRejectBadDigestsAndSchemes() {
    assertThatThrownBy(() -> new ImageRef.Remote(URI.create("ftp://x/y"), "0".repeat(64)))
        .hasMessageContaining("not http(s)");
    assertThatThrownBy(() -> new ImageRef.Remote(URI.create("http://x/y"), "abc"))
        .hasMessageContaining("not a sha256 digest");
    assertThat(new ImageRef.Remote(URI.create("http://x/y"), "sha256:" + "A".repeat(64)).sha256())
        .isEqualTo("a".repeat(64));
  }

  @Test
  void eachVmWritesItsOwnCopy() throws Exception {
    Path base = Files.writeString(dir.resolve("rootfs.ext4"), "pristine");
    Path one = dir.resolve("vms/1/rootfs.ext4");
    Path two = dir.resolve("vms/2/rootfs.ext4");
    WritableCopy.create(base, one);
    WritableCopy.create(base, two);
    Files.writeString(one, "written by vm 1");
    assertThat(base).hasContent("pristine");
    assertThat(two).hasContent("pristine");
    assertThatThrownBy(() -> WritableCopy.create(dir.resolve("missing"), dir.resolve("x")))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("cannot copy");
    assertThat(dir.resolve(".x.part")).doesNotExist();
  }

  @Test
  void downloadsAndTheirFoldersAreReadableByTheAgentAlone() throws Exception {
    Path blob = cache(1 << 20).resolve(publish("/vmlinux", "kernel bytes"), "vm-a");
    assertThat(mode(blob)).isEqualTo("rw-------");
    assertThat(mode(blob.getParent())).isEqualTo("rwx------");
    assertThat(mode(dir.resolve("cache"))).isEqualTo("rwx------");
    assertThat(mode(dir.resolve("cache/tmp"))).isEqualTo("rwx------");
  }

  @Test
  void aVmsDiskAndItsFoldersAreReadableByTheAgentAlone() throws Exception {
    Path base = Files.writeString(dir.resolve("rootfs.ext4"), "pristine");
    Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rw-r--r--"));
    Path disk = dir.resolve("vms/uid-1/disks/rootfs");
    WritableCopy.create(base, disk);
    assertThat(mode(disk)).isEqualTo("rw-------");
    assertThat(mode(dir.resolve("vms/uid-1/disks"))).isEqualTo("rwx------");
    assertThat(mode(dir.resolve("vms/uid-1"))).isEqualTo("rwx------");
    assertThat(mode(dir.resolve("vms"))).isEqualTo("rwx------");
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  private static void assertNoFilesUnder(Path root) throws IOException {
    try (var files = Files.walk(root)) {
      assertThat(files.filter(Files::isRegularFile)).isEmpty();
    }
  }
}
