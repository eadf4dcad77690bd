package dev.hearth.agent.image;

import static dev.hearth.agent.image.OciPullTest.debugfs;
import static dev.hearth.agent.image.OciPullTest.stat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.agent.testing.TestImageCaches;
import dev.hearth.testkit.OciLayout;
import dev.hearth.testkit.Registry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an image holds reaches the ext4 as a container runtime would lay it out: an image of three
 * layers (the last zstd-compressed) with hard links across layers and whited out on one name,
 * whiteouts of files and of a whole directory, an opaque directory, non-root owners (above 65535
 * too), setuid, setgid and sticky modes, absolute, relative and dangling symbolic links, and a
 * binary {@code security.capability}; pushed to a real registry, pulled, and read back with debugfs
 * and checked with {@code e2fsck -fn}.
 */
class OciImageContentTest {
  /**
   * {@code cap_net_raw,cap_setfcap+ep} as {@code setcap} writes it (VFS_CAP_REVISION_2); the 0x80
   * byte is no UTF-8, so the value must be carried as raw bytes.
   */
  private static final byte[] CAPS =
      HexFormat.of().parseHex("0100000200200080000000000000000000000000");

  private static Registry registry;
  @TempDir Path tmp;

  @BeforeAll
  static void start() {
    registry = Registry.startPublic();
    Registry.ensureZstd();
  }

  @AfterAll
  static void stop() {
    if (registry != null) {
      registry.close();
    }
  }

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  private ImageCache cache() {
    return TestImageCaches.forRegistry(
        tmp.resolve("cache"), tmp.resolve("images"), registry, meters);
  }

  private Path pull(String repository, List<OciLayout.Layer> layers) throws ImageException {
    OciLayout layout =
        OciLayout.write(
            tmp.resolve("layout-" + repository.replace('/', '-')),
            "latest",
            layers,
            List.of("/bin/tool"),
            List.of(),
            List.of(),
            "/home/app",
            "1000:1000");
    registry.push(layout, repository, "v1");
    return cache()
        .resolve(
            new ImageRef.Oci(
                ImageReference.parse(registry.host() + "/" + repository + ":v1"),
                Optional.empty(),
                List.of()),
            "vm");
  }

  @Test
  void linksWhiteoutsOwnersModesSymlinksAndCapabilitiesReachTheExt4() throws Exception {
    Map<String, byte[]> caps = new LinkedHashMap<>();
    caps.put("security.capability", CAPS);
    caps.put("user.note", "q\"uo\\te".getBytes(StandardCharsets.UTF_8));
    caps.put("system.nfs4_acl", new byte[] {1, 2}); // outside the namespaces taken: left out
    OciLayout.Layer base =
        new OciLayout.Layer()
            .dir("bin", 0755, 0, 0)
            .file("bin/tool", "#!/bin/sh\necho tool\n", 04755, 0, 0)
            .hardlink("bin/tool-again", "bin/tool")
            .file("bin/ping", "ping\n", 0755, 0, 0, caps)
            .dir("tmp", 01777, 0, 0)
            .dir("srv", 02775, 1000, 1000)
            .dir("home/app", 0700, 1000, 1000)
            .file("home/app/data", "app data\n", 0640, 1000, 1000)
            .hardlink("home/app/data-link", "home/app/data")
            .file("home/far", "far\n", 0600, 100_000, 100_001)
            .symlink("usr/bin/env", "/bin/tool")
            .symlink("lib/libtool.so", "../bin/tool")
            .symlink("etc/mtab", "/proc/self/mounts")
            .symlink("etc/host-shadow", "/etc/shadow")
            .symlink(
                "etc/long", "/" + "long-target/".repeat(20) + "end") // a slow symlink: in a block
            .file("etc/doomed", "whited out\n", 0644, 0, 0)
            .dir("opt/vendor/lib", 0755, 0, 0)
            .file("opt/vendor/lib/big", "whited out with its directory\n", 0644, 0, 0)
            .file("var/cache/old", "hidden by the opaque marker\n", 0644, 0, 0);
    OciLayout.Layer middle =
        new OciLayout.Layer()
            .whiteout("bin/tool") // its hard link bin/tool-again stays
            .hardlink("home/app/data-again", "home/app/data") // to a lower layer's file
            .whiteout("etc/doomed")
            .whiteout("opt")
            .opaque("var/cache")
            .file("var/cache/new", "from the middle layer\n", 0644, 0, 0);
    OciLayout.Layer top =
        new OciLayout.Layer()
            .whiteout("home/app/data-link")
            .file("etc/marker", "from a zstd layer\n", 0644, 0, 0)
            .zstd();
    Path image = pull("content/all", List.of(base, middle, top));

    OciPullTest.Stat toolAgain = stat(image, "/bin/tool-again");
    assertThat(toolAgain.mode()).isEqualTo("04755");
    assertThat(toolAgain.links()).isEqualTo(1);
    assertThat(debugfs(image, "cat /bin/tool-again")).isEqualTo("#!/bin/sh\necho tool\n");
    assertThat(debugfs(image, "ls /bin")).doesNotContain("tool ").doesNotContain(".wh.");

    OciPullTest.Stat data = stat(image, "/home/app/data");
    assertThat(stat(image, "/home/app/data-again").inode()).isEqualTo(data.inode());
    assertThat(data.links()).isEqualTo(2);
    assertThat(data.mode()).isEqualTo("0640");
    assertThat(data.uid()).isEqualTo(1000);
    assertThat(data.gid()).isEqualTo(1000);
    assertThat(debugfs(image, "ls /home/app")).doesNotContain("data-link");
    assertThat(stat(image, "/home/app").mode()).isEqualTo("0700");
    OciPullTest.Stat far = stat(image, "/home/far");
    assertThat(far.uid()).isEqualTo(100_000);
    assertThat(far.gid()).isEqualTo(100_001);
    assertThat(stat(image, "/tmp").mode()).isEqualTo("01777");
    OciPullTest.Stat srv = stat(image, "/srv");
    assertThat(srv.mode()).isEqualTo("02775");
    assertThat(srv.uid()).isEqualTo(1000);

    assertThat(debugfs(image, "stat /usr/bin/env")).contains("Type: symlink").contains("/bin/tool");
    assertThat(debugfs(image, "stat /lib/libtool.so"))
        .contains("Type: symlink")
        .contains("\"../bin/tool\"");
    // Links to host paths stay links: nothing of the node's /proc or /etc was copied in.
    assertThat(debugfs(image, "stat /etc/mtab"))
        .contains("Type: symlink")
        .contains("/proc/self/mounts");
    assertThat(debugfs(image, "stat /etc/host-shadow"))
        .contains("Type: symlink")
        .contains("/etc/shadow");

    assertThat(debugfs(image, "stat /etc/long")).contains("Type: symlink").contains("Size: 244");
    assertThat(debugfs(image, "cat /etc/long")).isEqualTo("/" + "long-target/".repeat(20) + "end");

    String etc = debugfs(image, "ls /etc");
    assertThat(etc).doesNotContain("doomed").doesNotContain(".wh.");
    assertThat(debugfs(image, "ls /")).doesNotContain("opt").doesNotContain(".wh.");
    assertThat(debugfs(image, "ls /var/cache"))
        .contains("new")
        .doesNotContain("old")
        .doesNotContain(".wh.");
    assertThat(debugfs(image, "cat /etc/marker")).isEqualTo("from a zstd layer\n");

    String attrs = debugfs(image, "ea_list /bin/ping");
    assertThat(attrs)
        .contains("security.capability (20) = 01 00 00 02 00 20 00 80 00 00 00 00")
        .contains("user.note (7) = \"q\\\"uo\\\\te\"")
        .doesNotContain("system.");
    assertThat(debugfs(image, "ea_list /bin/tool-again")).doesNotContain("security.");

    Process fsck = new ProcessBuilder("e2fsck", "-fn", image.toString()).start();
    String report = new String(fsck.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(fsck.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(fsck.exitValue()).as(report).isZero();
  }

  @Test
  void aPullReportsItsProgressAndCountsItsBytes() throws Exception {
    OciLayout layout =
        OciLayout.write(
            tmp.resolve("layout-progress"),
            "latest",
            List.of(
                new OciLayout.Layer().file("a", random(300_000), 0644, 0, 0),
                new OciLayout.Layer().file("b", random(200_000), 0644, 0, 0).zstd()),
            List.of(),
            List.of(),
            List.of(),
            null,
            null);
    registry.push(layout, "content/progress", "v1");
    List<long[]> seen = new ArrayList<>();
    ImageCache cache = cache();
    cache.resolve(
        new ImageRef.Oci(
            ImageReference.parse(registry.host() + "/content/progress:v1"),
            Optional.empty(),
            List.of()),
        "vm",
        PullSecrets.NONE,
        (image, done, total) -> {
          assertThat(image).endsWith("/content/progress:v1");
          seen.add(new long[] {done, total});
        });
    long total = seen.get(0)[1];
    assertThat(total).isGreaterThan(300_000); // random bytes do not compress
    assertThat(seen.get(0)[0]).isZero();
    assertThat(seen.size()).isGreaterThan(3); // chunk by chunk, not only at the end
    assertThat(seen).allSatisfy(u -> assertThat(u[1]).isEqualTo(total));
    assertThat(seen).isSortedAccordingTo((x, y) -> Long.compare(x[0], y[0]));
    assertThat(seen.get(seen.size() - 1)[0]).isEqualTo(total);
    assertThat(meters.get("hearth.image.oci.pulled.bytes").counter().count())
        .isEqualTo((double) total);
  }

  /** Text that does not compress: base64 of random bytes, {@code n} characters. */
  private static String random(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return Base64.getEncoder().encodeToString(b).substring(0, n);
  }

  @Test
  void aCorruptedZstdLayerIsRefusedByItsDigest() throws Exception {
    OciLayout layout =
        OciLayout.write(
            tmp.resolve("layout-corrupt"),
            "latest",
            List.of(new OciLayout.Layer().file("etc/x", "x".repeat(4096), 0644, 0, 0).zstd()),
            List.of(),
            List.of(),
            List.of(),
            null,
            null);
    registry.push(layout, "content/corrupt", "v1");
    Path zstd = null;
    try (var files = Files.walk(layout.dir().resolve("blobs/sha256"))) {
      for (Path p : files.filter(Files::isRegularFile).toList()) {
        byte[] b = Files.readAllBytes(p);
        if (b.length > 4 && (b[0] & 0xff) == 0x28 && (b[1] & 0xff) == 0xb5) {
          zstd = p;
        }
      }
    }
    assertThat(zstd).as("a zstd blob in the layout").isNotNull();
    try (RandomAccessFile f =
        new RandomAccessFile(registry.blobFile("sha256:" + zstd.getFileName()).toFile(), "rw")) {
      f.seek(f.length() / 2);
      int b = f.read();
      f.seek(f.length() / 2);
      f.write(b ^ 0xff);
    }
    assertThatThrownBy(
            () ->
                cache()
                    .resolve(
                        new ImageRef.Oci(
                            ImageReference.parse(registry.host() + "/content/corrupt:v1"),
                            Optional.empty(),
                            List.of()),
                        "vm"))
        .isInstanceOfSatisfying(
            ImageException.class, e -> assertThat(e.reason()).isEqualTo("ImageChecksumMismatch"));
  }

  @Test
  void hostileExtendedAttributesAreRefused() throws Exception {
    Map<String, byte[]> many = new LinkedHashMap<>();
    for (int i = 0; i <= LayerUnpacker.MAX_XATTRS_PER_ENTRY; i++) {
      many.put("user.a" + i, new byte[] {1});
    }
    Map<String, byte[]> big =
        Map.of("user.big", new byte[LayerUnpacker.MAX_XATTR_BYTES_PER_ENTRY + 1]);
    Map<String, byte[]> quoted = Map.of("user.\"; sif / uid 0", new byte[] {1});
    int n = 0;
    for (Map<String, byte[]> attrs : List.of(many, big, quoted)) {
      String repo = "hostile/xattr" + n++;
      assertThatThrownBy(
              () -> pull(repo, List.of(new OciLayout.Layer().file("f", "f", 0644, 0, 0, attrs))))
          .as(repo)
          .isInstanceOfSatisfying(
              ImageException.class, e -> assertThat(e.reason()).isEqualTo("ImageLayerRefused"));
    }
  }
}
