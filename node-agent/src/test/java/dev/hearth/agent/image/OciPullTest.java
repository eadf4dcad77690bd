package dev.hearth.agent.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.testkit.OciLayout;
import dev.hearth.testkit.Registry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OCI pulls against a real registry (Debian's docker-registry on loopback), images pushed with
 * skopeo from layers made here; the ext4 result is read back with debugfs.
 */
class OciPullTest {
  private static Registry open;
  private static Registry closed;
  @TempDir Path tmp;

  @BeforeAll
  static void registries() {
    open = Registry.startPublic();
    closed = Registry.startPrivate("alice", "s3cret");
  }

  @AfterAll
  static void stop() {
    if (open != null) {
      open.close();
    }
    if (closed != null) {
      closed.close();
    }
  }

  private ImageCache cache(Path root) {
    return new ImageCache(
        root.resolve("cache"),
        new NodeImages(root.resolve("images")),
        1L << 30,
        ImageCache.Timeouts.DEFAULT,
        Destinations.ANY,
        OciSettings.DEFAULT.withPlainHttp(Set.of(open.host(), closed.host())),
        new SimpleMeterRegistry());
  }

  /** A base layer and an upper one that deletes, hides and replaces parts of it. */
  private OciLayout image(String name, String marker) {
    OciLayout.Layer base =
        new OciLayout.Layer()
            .dir("bin", 0755, 0, 0)
            .file("bin/tool", "#!/bin/sh\necho tool\n", 04755, 0, 0)
            .hardlink("bin/tool-again", "bin/tool")
            .symlink("bin/sh", "/bin/busybox")
            .dir("home/app", 0750, 1000, 1001)
            .file("home/app/secret", "only app\n", 0600, 1000, 1001)
            .file("etc/doomed", "removed by the upper layer\n", 0644, 0, 0)
            .dir("var/cache", 0755, 0, 0)
            .file("var/cache/old", "hidden by the opaque marker\n", 0644, 0, 0);
    OciLayout.Layer upper =
        new OciLayout.Layer()
            .whiteout("etc/doomed")
            .opaque("var/cache")
            .file("var/cache/new", "from the upper layer\n", 0644, 0, 0)
            .file("etc/marker", marker + "\n", 0644, 0, 0);
    return OciLayout.write(
        tmp.resolve("layout-" + name),
        "latest",
        List.of(base, upper),
        List.of("/bin/tool"),
        List.of(),
        List.of("PATH=/bin"),
        "/",
        "1000");
  }

  private static ImageRef.Oci oci(String ref, String... secrets) {
    return new ImageRef.Oci(ImageReference.parse(ref), Optional.empty(), List.of(secrets));
  }

  @Test
  void pullsByTagAndByDigestIntoAnExt4WithLinksWhiteoutsOwnersAndModes() throws Exception {
    String digest = open.push(image("a", "one"), "hearth/app", "v1");
    ImageCache cache = cache(tmp);
    Path byTag = cache.resolve(oci(open.host() + "/hearth/app:v1"), "vm-1");
    Path byDigest = cache.resolve(oci(open.host() + "/hearth/app@" + digest), "vm-2");
    assertThat(byDigest).isEqualTo(byTag); // one cache entry: the manifest's digest keys it
    assertThat(cache.owners(byTag.getFileName().toString()))
        .containsExactlyInAnyOrder("vm-1", "vm-2");

    Stat tool = stat(byTag, "/bin/tool");
    assertThat(tool.mode()).isEqualTo("04755");
    assertThat(stat(byTag, "/bin/tool-again").inode()).isEqualTo(tool.inode());
    assertThat(tool.links()).isEqualTo(2);
    Stat secret = stat(byTag, "/home/app/secret");
    assertThat(secret.mode()).isEqualTo("0600");
    assertThat(secret.uid()).isEqualTo(1000);
    assertThat(secret.gid()).isEqualTo(1001);
    assertThat(stat(byTag, "/home/app").mode()).isEqualTo("0750");
    assertThat(debugfs(byTag, "stat /bin/sh")).contains("Type: symlink").contains("/bin/busybox");
    assertThat(debugfs(byTag, "cat /etc/marker")).isEqualTo("one\n");
    assertThat(debugfs(byTag, "ls /etc")).doesNotContain("doomed").doesNotContain(".wh.");
    String cacheDir = debugfs(byTag, "ls /var/cache");
    assertThat(cacheDir).contains("new").doesNotContain("old").doesNotContain(".wh.");
    assertThat(stat(byTag, "/").uid()).isZero();
  }

  @Test
  void zstdLayersUnpackAsGzipOnesDo() throws Exception {
    Registry.ensureZstd();
    OciLayout.Layer base =
        new OciLayout.Layer()
            .zstd()
            .dir("bin", 0755, 0, 0)
            .file("bin/tool", "#!/bin/sh\necho zstd\n", 0755, 0, 0)
            .hardlink("bin/tool-again", "bin/tool")
            .file("etc/doomed", "removed by the upper layer\n", 0644, 0, 0);
    OciLayout.Layer upper = new OciLayout.Layer().whiteout("etc/doomed"); // gzip, beside it
    OciLayout layout =
        OciLayout.write(
            tmp.resolve("layout-zstd"),
            "latest",
            List.of(base, upper),
            List.of("/bin/tool"),
            List.of(),
            List.of(),
            "/",
            null);
    open.push(layout, "hearth/zstd", "v1");
    Path disk = cache(tmp).resolve(oci(open.host() + "/hearth/zstd:v1"), "vm");
    assertThat(debugfs(disk, "cat /bin/tool")).isEqualTo("#!/bin/sh\necho zstd\n");
    assertThat(stat(disk, "/bin/tool-again").inode()).isEqualTo(stat(disk, "/bin/tool").inode());
    assertThat(debugfs(disk, "ls /etc")).doesNotContain("doomed");
  }

  @Test
  void aMovedTagGivesTheNewImage() throws Exception {
    String first = open.push(image("first", "first"), "hearth/moving", "stable");
    ImageCache cache = cache(tmp);
    Path before = cache.resolve(oci(open.host() + "/hearth/moving:stable"), "vm");
    String second = open.push(image("second", "second"), "hearth/moving", "stable");
    assertThat(second).isNotEqualTo(first);
    Path after = cache.resolve(oci(open.host() + "/hearth/moving:stable"), "vm");
    assertThat(after).isNotEqualTo(before);
    assertThat(debugfs(before, "cat /etc/marker")).isEqualTo("first\n");
    assertThat(debugfs(after, "cat /etc/marker")).isEqualTo("second\n");
  }

  @Test
  void aPrivateRepositoryNeedsThePullSecret() throws Exception {
    String digest = closed.push(image("private", "private"), "team/app", "v1");
    ImageCache cache = cache(tmp);
    ImageRef.Oci src = oci(closed.host() + "/team/app:v1", "regcred");
    assertThatThrownBy(() -> cache.resolve(src, "vm", PullSecrets.NONE))
        .isInstanceOfSatisfying(
            ImageException.class, e -> assertThat(e.reason()).isEqualTo("ImagePullUnauthorized"));
    PullSecrets wrong = names -> List.of(new RegistryCredential(closed.host(), "alice", "wrong"));
    assertThatThrownBy(() -> cache.resolve(src, "vm", wrong))
        .isInstanceOfSatisfying(
            ImageException.class, e -> assertThat(e.reason()).isEqualTo("ImagePullUnauthorized"));
    PullSecrets right =
        names -> {
          assertThat(names).containsExactly("regcred");
          return List.of(new RegistryCredential(closed.host(), "alice", "s3cret"));
        };
    Path image = cache.resolve(src, "vm", right);
    assertThat(debugfs(image, "cat /etc/marker")).isEqualTo("private\n");
    // Cached now, but a pull without the credentials by digest is still refused.
    ImageRef.Oci byDigest = oci(closed.host() + "/team/app@" + digest);
    assertThatThrownBy(() -> cache.resolve(byDigest, "other-tenant", PullSecrets.NONE))
        .isInstanceOfSatisfying(
            ImageException.class, e -> assertThat(e.reason()).isEqualTo("ImagePullUnauthorized"));
    assertThat(cache.owners(image.getFileName().toString())).containsExactly("vm");
  }

  @Test
  void aCorruptedBlobIsRefusedByItsDigest() throws Exception {
    OciLayout layout = image("corrupt", "corrupt");
    open.push(layout, "hearth/corrupt", "v1");
    // Flip a byte in the middle of a layer (a gzip blob) as the registry stores it.
    Path largest = null;
    try (var files = Files.walk(layout.dir().resolve("blobs/sha256"))) {
      for (Path p : files.filter(Files::isRegularFile).toList()) {
        byte[] head = Files.readAllBytes(p);
        if ((head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
          largest = p;
        }
      }
    }
    Path stored = open.blobFile("sha256:" + largest.getFileName());
    try (RandomAccessFile f = new RandomAccessFile(stored.toFile(), "rw")) {
      long middle = f.length() / 2;
      f.seek(middle);
      int b = f.read();
      f.seek(middle);
      f.write(b ^ 0xff);
    }
    ImageCache cache = cache(tmp);
    assertThatThrownBy(() -> cache.resolve(oci(open.host() + "/hearth/corrupt:v1"), "vm"))
        .isInstanceOfSatisfying(
            ImageException.class,
            e -> {
              assertThat(e.reason()).isEqualTo("ImageChecksumMismatch");
              assertThat(e.getMessage()).contains("does not match its digest");
            });
    assertThat(cache.sizeBytes()).isZero();
  }

  @Test
  void aFileFromTheImageServesAsKernel() throws Exception {
    open.push(image("kernel", "k"), "hearth/kernel", "v1");
    ImageCache cache = cache(tmp);
    Path kernel =
        cache.resolve(
            new ImageRef.Oci(
                ImageReference.parse(open.host() + "/hearth/kernel:v1"),
                Optional.of("etc/marker"),
                List.of()),
            "vm");
    assertThat(Files.readString(kernel)).isEqualTo("k\n");
    assertThatThrownBy(
            () ->
                cache.resolve(
                    new ImageRef.Oci(
                        ImageReference.parse(open.host() + "/hearth/kernel:v1"),
                        Optional.of("bin/sh"),
                        List.of()),
                    "vm"))
        .isInstanceOfSatisfying(
            ImageException.class, e -> assertThat(e.reason()).isEqualTo("ImageNotFound"));
  }

  @Test
  void hostileLayersAreRefusedAndWriteNothingOutside() throws Exception {
    Path outside = tmp.resolve("outside");
    Files.createDirectories(outside);
    OciLayout climb =
        OciLayout.write(
            tmp.resolve("climb"),
            "latest",
            List.of(new OciLayout.Layer().file("../../../../outside/x", "x", 0644, 0, 0)),
            List.of(),
            List.of(),
            List.of(),
            null,
            null);
    OciLayout viaLink =
        OciLayout.write(
            tmp.resolve("via-link"),
            "latest",
            List.of(
                new OciLayout.Layer().symlink("evil", outside.toString()),
                new OciLayout.Layer().file("evil/owned", "x", 0644, 0, 0)),
            List.of(),
            List.of(),
            List.of(),
            null,
            null);
    OciLayout hardLinkOut =
        OciLayout.write(
            tmp.resolve("hard-out"),
            "latest",
            List.of(new OciLayout.Layer().hardlink("passwd", "/etc/passwd")),
            List.of(),
            List.of(),
            List.of(),
            null,
            null);
    open.push(climb, "hostile/climb", "v1");
    open.push(viaLink, "hostile/link", "v1");
    open.push(hardLinkOut, "hostile/hard", "v1");
    ImageCache cache = cache(tmp);
    for (String repo : List.of("climb", "link", "hard")) {
      assertThatThrownBy(() -> cache.resolve(oci(open.host() + "/hostile/" + repo + ":v1"), "vm"))
          .as(repo)
          .isInstanceOfSatisfying(
              ImageException.class, e -> assertThat(e.reason()).isEqualTo("ImageLayerRefused"));
    }
    try (var left = Files.list(outside)) {
      assertThat(left.toList()).isEmpty();
    }
  }

  record Stat(long inode, String mode, long uid, long gid, int links) {}

  private static final Pattern INODE =
      Pattern.compile("Inode: (\\d+)\\s+Type: \\S+\\s+Mode:\\s+(\\d+)");
  private static final Pattern OWNER = Pattern.compile("User:\\s+(\\d+)\\s+Group:\\s+(\\d+)");
  private static final Pattern LINKS = Pattern.compile("Links: (\\d+)");

  static Stat stat(Path image, String path) throws Exception {
    String out = debugfs(image, "stat " + path);
    Matcher i = INODE.matcher(out);
    Matcher o = OWNER.matcher(out);
    Matcher l = LINKS.matcher(out);
    assertThat(i.find() && o.find() && l.find()).as(path + ": " + out).isTrue();
    return new Stat(
        Long.parseLong(i.group(1)),
        i.group(2),
        Long.parseLong(o.group(1)),
        Long.parseLong(o.group(2)),
        Integer.parseInt(l.group(1)));
  }

  static String debugfs(Path image, String request) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("debugfs", "-R", request, image.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return out;
  }
}
