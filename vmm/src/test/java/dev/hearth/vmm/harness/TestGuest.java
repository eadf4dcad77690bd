package dev.hearth.vmm.harness;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The minimal Linux test guest that {@code vmm/guest/build-guest.sh} builds, located from its
 * {@code paths.env}: the system property {@value #PROPERTY} (set by Failsafe) when it names a file,
 * else the environment variable {@value #ENV} (set inside L1 by {@code run-in-l1.sh --with-guest}).
 *
 * @param vmlinux the ELF kernel (64-bit entry at 0x1000000, with a PVH note)
 * @param bzImage the same kernel as a bzImage
 * @param initramfs busybox and the test init at {@code /init}
 * @param rootfs an ext4 image with the test init at {@code /sbin/init}
 * @param marker the line prefix the init prints when user space is up
 */
public record TestGuest(Path vmlinux, Path bzImage, Path initramfs, Path rootfs, String marker) {
  public static final String PROPERTY = "hearth.guest.properties";
  public static final String ENV = "HEARTH_GUEST_PROPERTIES";

  /** The guest this build made; fails with what to run when there is none. */
  public static TestGuest locate() throws IOException {
    // The property (set by Failsafe) first, unless it names no file: inside L1 the forwarded
    // property may point at a host file that was never made, and the harness sets the variable.
    String file = System.getProperty(PROPERTY);
    if (file == null || !Files.isRegularFile(Path.of(file))) {
      file = System.getenv(ENV) != null ? System.getenv(ENV) : file;
    }
    if (file == null || !Files.isRegularFile(Path.of(file))) {
      throw new IOException(
          "no test guest: set -D"
              + PROPERTY
              + " or "
              + ENV
              + " to the paths.env that vmm/guest/build-guest.sh --print-paths describes"
              + (file == null ? "" : " (" + file + " does not exist)"));
    }
    return fromPathsFile(Path.of(file));
  }

  /** Reads a {@code paths.env} (KEY=value lines) and checks that every file exists. */
  static TestGuest fromPathsFile(Path file) throws IOException {
    Properties p = new Properties();
    try (Reader reader = Files.newBufferedReader(file)) {
      p.load(reader);
    }
    TestGuest guest =
        new TestGuest(
            path(p, "HEARTH_GUEST_VMLINUX", file),
            path(p, "HEARTH_GUEST_BZIMAGE", file),
            path(p, "HEARTH_GUEST_INITRAMFS", file),
            path(p, "HEARTH_GUEST_ROOTFS", file),
            p.getProperty("HEARTH_GUEST_MARKER", "HEARTH-GUEST-READY"));
    for (Path each : new Path[] {guest.vmlinux, guest.bzImage, guest.initramfs, guest.rootfs}) {
      if (!Files.isRegularFile(each)) {
        throw new IOException(file + " names " + each + ", which does not exist");
      }
    }
    return guest;
  }

  private static Path path(Properties p, String key, Path file) throws IOException {
    String value = p.getProperty(key);
    if (value == null || value.isBlank()) {
      throw new IOException(file + " has no " + key);
    }
    return Path.of(value.trim());
  }
}
