package dev.hearth.agent.state;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Files and folders that hold tenant data (VM disks, cached images, VM folders) are the agent's
 * alone: folders 0700, files 0600. The mode is given at creation, so no other local user can open a
 * file in the window before a later chmod; a umask can only take bits away from these.
 */
public final class PrivateFiles {
  /** rwx------ */
  public static final Set<PosixFilePermission> DIRECTORY =
      PosixFilePermissions.fromString("rwx------");

  /** rw------- */
  public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

  private PrivateFiles() {}

  /**
   * Creates {@code dir} and any missing parents 0700. A folder that exists already (made by an
   * older agent, or by the kubelet for a hostPath) loses its group and other bits, so that the
   * node's data dir is private after an upgrade too.
   */
  public static Path directories(Path dir) throws IOException {
    Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(DIRECTORY));
    Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
    if (!DIRECTORY.containsAll(mode)) {
      mode.retainAll(DIRECTORY);
      Files.setPosixFilePermissions(dir, mode);
    }
    return dir;
  }

  /** Creates {@code file}, which must not exist, 0600, and opens it for writing. */
  public static FileChannel createNew(Path file) throws IOException {
    return FileChannel.open(
        file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), fileAttribute());
  }

  /** Deletes {@code dir} and everything under it; a missing {@code dir} is no error. */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** The attribute that creates a file 0600. */
  public static FileAttribute<Set<PosixFilePermission>> fileAttribute() {
    return PosixFilePermissions.asFileAttribute(FILE);
  }
}
