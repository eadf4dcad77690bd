package dev.hearth.agent.image;

import static dev.hearth.agent.image.OciPullTest.debugfs;
import static dev.hearth.agent.image.OciPullTest.stat;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.agent.testing.TestImageCaches;
import dev.hearth.testkit.Registry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An image as a build tool makes it, not as the testkit writes tars: buildah (vfs storage, as root)
 * builds two layers from real files (real owners, a setuid binary with a hard link, a {@code
 * setcap} capability, a sticky directory, a relative symbolic link), the second deleting a file, a
 * directory and one name of the hard link and replacing a directory, so containers/storage writes
 * the whiteouts and the opaque directory; pushed zstd-compressed to a real registry, pulled, and
 * the ext4 read with debugfs and checked with {@code e2fsck -fn}.
 */
class OciBuildahImageTest {
  private static final String BUILD =
      """
      set -eu
      B="buildah --storage-driver vfs --root $WORK/storage --runroot $WORK/run"
      c=$($B from scratch)
      m=$($B mount "$c")
      mkdir -p $m/bin $m/etc $m/var/cache $m/opt/x $m/home/app $m/tmp $m/srv
      printf 'tool\\n' > $m/bin/tool && chmod 4755 $m/bin/tool && ln $m/bin/tool $m/bin/tool2
      printf 'a\\n' > $m/bin/a && ln $m/bin/a $m/bin/b
      printf 'ping\\n' > $m/bin/ping && setcap cap_net_raw,cap_setfcap+ep $m/bin/ping
      printf 'old\\n' > $m/var/cache/old && printf 'd\\n' > $m/etc/doomed
      printf 'o\\n' > $m/opt/x/f && printf 'keep\\n' > $m/opt/keep
      printf 'secret\\n' > $m/home/app/secret && chmod 0600 $m/home/app/secret
      chown -R 1000:1001 $m/home/app && chmod 0750 $m/home/app
      chmod 1777 $m/tmp && chown 1000:1000 $m/srv && chmod 2775 $m/srv
      ln -s ../bin/tool2 $m/etc/rel && ln -s /proc/self/mounts $m/etc/mtab
      $B commit -q "$c" base > /dev/null
      c2=$($B from base)
      m=$($B mount "$c2")
      rm $m/etc/doomed $m/bin/tool && rm -rf $m/opt/x $m/var/cache
      mkdir $m/var/cache && printf 'new\\n' > $m/var/cache/new
      $B config --user 1000:1001 --entrypoint '["/bin/tool2"]' "$c2"
      $B commit -q "$c2" app > /dev/null
      $B push -q --tls-verify=false --compression-format zstd app "docker://$TARGET"
      $B rm -a > /dev/null && $B rmi -a -f > /dev/null
      """;

  private static Registry registry;
  @TempDir Path tmp;

  @BeforeAll
  static void start() {
    registry = Registry.startPublic();
  }

  @AfterAll
  static void stop() {
    if (registry != null) {
      registry.close();
    }
  }

  @Test
  void aBuildahImageWithHardLinksWhiteoutsAndANonRootUserBecomesTheExt4() throws Exception {
    boolean tools =
        Files.isExecutable(Path.of("/usr/bin/buildah"))
            && Files.isExecutable(Path.of("/usr/sbin/setcap"));
    Assumptions.assumeTrue(
        tools, "buildah or setcap missing (Debian packages buildah, libcap2-bin)");
    Assumptions.assumeTrue(
        "root".equals(System.getProperty("user.name")), "buildah with vfs storage needs root here");
    String target = registry.host() + "/built/app:v1";
    ProcessBuilder pb =
        new ProcessBuilder("bash", "-c", BUILD).redirectErrorStream(true).directory(tmp.toFile());
    pb.environment().put("WORK", tmp.toString());
    pb.environment().put("TARGET", target);
    Process build = pb.start();
    String log = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(build.waitFor(5, TimeUnit.MINUTES)).isTrue();
    assertThat(build.exitValue()).as(log).isZero();

    ImageCache cache =
        TestImageCaches.forRegistry(
            tmp.resolve("cache"), tmp.resolve("images"), registry, new SimpleMeterRegistry());
    Path image =
        cache.resolve(
            new ImageRef.Oci(ImageReference.parse(target), Optional.empty(), List.of()), "vm");

    OciPullTest.Stat tool2 = stat(image, "/bin/tool2");
    assertThat(tool2.mode()).isEqualTo("04755");
    assertThat(tool2.links()).isEqualTo(1); // its other name was whited out
    assertThat(debugfs(image, "cat /bin/tool2")).isEqualTo("tool\n");
    OciPullTest.Stat a = stat(image, "/bin/a");
    assertThat(stat(image, "/bin/b").inode()).isEqualTo(a.inode());
    assertThat(a.links()).isEqualTo(2);
    assertThat(debugfs(image, "ea_list /bin/ping"))
        .contains("security.capability (20) = 01 00 00 02 00 20 00 80");

    OciPullTest.Stat secret = stat(image, "/home/app/secret");
    assertThat(secret.mode()).isEqualTo("0600");
    assertThat(secret.uid()).isEqualTo(1000);
    assertThat(secret.gid()).isEqualTo(1001);
    assertThat(stat(image, "/home/app").mode()).isEqualTo("0750");
    assertThat(stat(image, "/tmp").mode()).isEqualTo("01777");
    assertThat(stat(image, "/srv").mode()).isEqualTo("02775");
    assertThat(debugfs(image, "stat /etc/rel")).contains("Type: symlink").contains("../bin/tool2");
    assertThat(debugfs(image, "stat /etc/mtab"))
        .contains("Type: symlink")
        .contains("/proc/self/mounts");

    assertThat(debugfs(image, "ls /bin")).doesNotContain("tool ").doesNotContain(".wh.");
    assertThat(debugfs(image, "ls /etc")).doesNotContain("doomed").doesNotContain(".wh.");
    assertThat(debugfs(image, "ls /opt")).contains("keep").doesNotContain(" x ");
    assertThat(debugfs(image, "ls /var/cache")).contains("new").doesNotContain("old");

    Process fsck = new ProcessBuilder("e2fsck", "-fn", image.toString()).start();
    String report = new String(fsck.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(fsck.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(fsck.exitValue()).as(report).isZero();
  }
}
