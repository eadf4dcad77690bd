package dev.hearth.e2e.system;

import dev.hearth.testkit.OciLayout;
import dev.hearth.testkit.Registry;
import dev.hearth.vmm.harness.NestedJob;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The container image {@link ContainerEntrypointKvmIT} runs, made by the test and pushed to a real
 * registry ({@link Registry}, Debian's distribution registry on loopback): busybox with {@code
 * /bin/sh} a hard link to it, a non-root user {@code app} (uid 1000) in a supplementary group
 * {@code extra} (2000), a file the second layer whites out, an entrypoint, a command, env and a
 * working directory in its config.
 *
 * <p>Inside the nested-KVM machine (L1) there is no registry or skopeo: the host side of the suite
 * ({@link NestedKvmSuiteIT}) pushes the image to a registry on this machine's loopback, which L1
 * reaches as {@value #L1_HOST} through QEMU's user network, and forwards the reference in the
 * system property {@value #PROPERTY}. L1 also gets e2fsprogs' tools, which the agent unpacks images
 * with.
 */
final class ContainerImages {
  /** The image reference, set where the image was pushed before the test started. */
  static final String PROPERTY = "hearth.e2e.containerImage";

  /** This machine's loopback as QEMU's user network shows it to L1. */
  static final String L1_HOST = "10.0.2.2";

  private static final String REPOSITORY = "hearth/entry";
  private static Registry registry;

  private ContainerImages() {}

  /**
   * The image's reference: the pushed one of {@value #PROPERTY}, or one pushed now to a registry
   * this JVM starts (closed at exit).
   */
  static synchronized String reference() {
    String given = System.getProperty(PROPERTY);
    if (given != null) {
      return given;
    }
    return push(registryHost -> registryHost);
  }

  /** The registry host[:port] of {@code reference}, for the agent's plain-http list. */
  static String registryOf(String reference) {
    return reference.substring(0, reference.indexOf('/'));
  }

  /**
   * Pushes the image on this machine for a suite inside L1: the reference (with L1's name for this
   * machine) goes in {@value #PROPERTY}, and e2fsprogs' tools and libraries are added to L1.
   */
  static synchronized NestedJob forL1(NestedJob job) {
    System.setProperty(PROPERTY, push(host -> host.replace("127.0.0.1", L1_HOST)));
    for (String tool : List.of("/usr/sbin/mke2fs", "/usr/sbin/debugfs", "/etc/mke2fs.conf")) {
      if (Files.exists(Path.of(tool))) {
        job = job.withAdd(Path.of(tool));
      }
    }
    // The harness adds files by their real path, so a library's soname link would be lost: the
    // libraries go in a folder of their own under their sonames, on LD_LIBRARY_PATH.
    try {
      Path libs = Files.createTempDirectory("hearth-e2fsprogs-");
      for (String lib :
          List.of(
              "libext2fs.so.2",
              "libcom_err.so.2",
              "libe2p.so.2",
              "libss.so.2",
              "libblkid.so.1",
              "libuuid.so.1")) {
        Path p = Path.of("/usr/lib/x86_64-linux-gnu").resolve(lib);
        if (Files.exists(p)) {
          Files.copy(p, libs.resolve(lib)); // follows the link
        }
      }
      job = job.withAdd(libs).withEnv("LD_LIBRARY_PATH", libs.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return job;
  }

  private static String push(java.util.function.UnaryOperator<String> hostAsSeen) {
    if (registry == null) {
      registry = Registry.startPublic();
      Runtime.getRuntime().addShutdownHook(new Thread(registry::close));
    }
    try {
      Path dir = Files.createTempDirectory("hearth-entry-image-");
      OciLayout layout =
          OciLayout.write(
              dir.resolve("layout"),
              "v1",
              List.of(base(), second()),
              List.of("/bin/sh", "-c"),
              List.of("echo image-default-cmd"),
              List.of("PATH=/bin", "GREETING=from-image"),
              "/home/app",
              "app");
      registry.push(layout, REPOSITORY, "v1");
      return hostAsSeen.apply(registry.host()) + "/" + REPOSITORY + ":v1";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static OciLayout.Layer base() throws IOException {
    OciLayout.Layer l = new OciLayout.Layer();
    l.dir("bin", 0755, 0, 0);
    l.file("bin/busybox", Files.readAllBytes(Path.of("/bin/busybox")), 0755, 0, 0);
    l.hardlink("bin/sh", "bin/busybox");
    for (String applet : List.of("id", "ls", "cat", "stat", "env", "pwd", "sleep")) {
      l.symlink("bin/" + applet, "busybox");
    }
    l.dir("etc", 0755, 0, 0);
    l.file(
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
        0644,
        0,
        0);
    l.file("etc/group", "root:x:0:\napp:x:1000:\nextra:x:2000:other,app\n", 0644, 0, 0);
    l.dir("home", 0755, 0, 0);
    l.dir("home/app", 0750, 1000, 1000);
    l.dir("data", 0755, 0, 0);
    l.file("data/gone", "deleted by the next layer\n", 0644, 0, 0);
    l.file("data/kept", "kept\n", 0644, 0, 0);
    return l;
  }

  private static OciLayout.Layer second() {
    OciLayout.Layer l = new OciLayout.Layer();
    l.whiteout("data/gone");
    l.file("data/added", "added by layer 2\n", 0640, 1000, 2000);
    return l;
  }
}
