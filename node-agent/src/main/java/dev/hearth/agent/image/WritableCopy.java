package dev.hearth.agent.image;

import dev.hearth.agent.state.PrivateFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;

/**
 * Gives a VM its own copy of a disk image, so its writes never reach the shared cache or another
 * VM. {@code cp --reflink=auto} makes it a copy-on-write clone where the file system can (btrfs,
 * XFS) and a sparse full copy elsewhere. The copy is made under a temp name and renamed, so a crash
 * never leaves a half-copied disk under the final name. The copy is 0600 in a 0700 folder: a
 * tenant's disk is the agent's alone.
 */
public final class WritableCopy {
  private WritableCopy() {}

  public static void create(Path source, Path target) throws ImageException {
    Path part = target.resolveSibling("." + target.getFileName() + ".part");
    try {
      PrivateFiles.directories(target.toAbsolutePath().getParent());
      Files.deleteIfExists(part);
      // Created 0600 before cp writes it: cp keeps an existing file's mode, so the tenant's disk
      // is never readable by others, not even while it is being copied.
      Files.createFile(part, PrivateFiles.fileAttribute());
      Process cp =
          new ProcessBuilder(
                  "cp", "--reflink=auto", "--sparse=always", source.toString(), part.toString())
              .redirectErrorStream(true)
              .start();
      String output = new String(cp.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!cp.waitFor(10, TimeUnit.MINUTES) || cp.exitValue() != 0) {
        cp.destroyForcibly();
        throw new ImageException.FetchFailed(
            "cannot copy " + source + " to " + target + ": " + output.strip(), null);
      }
      Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new ImageException.FetchFailed("cannot copy " + source + " to " + target + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ImageException.FetchFailed("interrupted copying " + source, e);
    } finally {
      try {
        Files.deleteIfExists(part);
      } catch (IOException ignored) {
        // Best effort; the next copy deletes it first.
      }
    }
  }
}
