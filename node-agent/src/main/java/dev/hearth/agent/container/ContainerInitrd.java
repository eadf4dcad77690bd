package dev.hearth.agent.container;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A container VM's initrd: the node's Hearth initramfs with a small archive appended that holds the
 * VM's {@link ContainerProcess} at {@value #CONFIG_PATH} (the kernel unpacks concatenated archives
 * in turn). The config is length-prefixed records, so that no value (an argument with spaces,
 * quotes or newlines, an environment value) needs escaping, and it stays off the kernel command
 * line, whose length is bounded and which the guest can read back. The guest init's reader ({@code
 * vmm/guest/init/container.c}) bounds the same sizes.
 */
public final class ContainerInitrd {
  /** Where the guest init finds the config. */
  public static final String CONFIG_PATH = "/hearth/container";

  /** The largest config the init reads. */
  public static final int MAX_CONFIG_BYTES = 1 << 20;

  /** The most argv entries, and the most environment entries, the init takes. */
  public static final int MAX_ENTRIES = 1024;

  private ContainerInitrd() {}

  /**
   * The config the init reads: {@code hearth-container 1\n}, then per value {@code <tag>
   * <length>\n<bytes>\n} (tags a argv, e env, w working directory, u user, p exit port).
   *
   * @param exitPort the VMM's guest-exit I/O port
   * @throws ContainerException when a value holds a NUL byte or the config is too large
   */
  public static byte[] encode(ContainerProcess p, int exitPort) throws ContainerException {
    if (p.argv().size() > MAX_ENTRIES || p.env().size() > MAX_ENTRIES) {
      throw new ContainerException(
          "the container has "
              + p.argv().size()
              + " arguments and "
              + p.env().size()
              + " environment entries; the guest init takes at most "
              + MAX_ENTRIES
              + " of each");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes("hearth-container 1\n".getBytes(StandardCharsets.US_ASCII));
    for (String a : p.argv()) {
      record(out, 'a', a, "an argument");
    }
    for (String e : p.env()) {
      record(out, 'e', e, "an environment entry");
    }
    record(out, 'w', p.workingDir(), "the working directory");
    record(out, 'u', p.user(), "the user");
    record(out, 'p', Integer.toString(exitPort), "the exit port");
    if (out.size() > MAX_CONFIG_BYTES) {
      throw new ContainerException(
          "the container's arguments and environment take "
              + out.size()
              + " bytes; the guest init takes at most "
              + MAX_CONFIG_BYTES);
    }
    return out.toByteArray();
  }

  private static void record(ByteArrayOutputStream out, char tag, String value, String what)
      throws ContainerException {
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    for (byte b : bytes) {
      if (b == 0) {
        throw new ContainerException(what + " of the container holds a NUL character");
      }
    }
    out.writeBytes((tag + " " + bytes.length + "\n").getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(bytes);
    out.write('\n');
  }

  /** A newc cpio archive of {@code /hearth} and {@code config} at {@value #CONFIG_PATH}. */
  public static byte[] archive(byte[] config) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    entry(out, 1, "hearth", 040755, 2, new byte[0]);
    entry(out, 2, CONFIG_PATH.substring(1), 0100400, 1, config);
    entry(out, 0, "TRAILER!!!", 0, 1, new byte[0]);
    return out.toByteArray();
  }

  private static void entry(
      ByteArrayOutputStream out, int ino, String name, int mode, int nlink, byte[] data) {
    byte[] n = (name + "\0").getBytes(StandardCharsets.US_ASCII);
    StringBuilder h = new StringBuilder("070701");
    // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
    for (long v : new long[] {ino, mode, 0, 0, nlink, 0, data.length, 0, 0, 0, 0, n.length, 0}) {
      h.append(String.format("%08x", v));
    }
    out.writeBytes(h.toString().getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(n);
    pad(out);
    out.writeBytes(data);
    pad(out);
  }

  private static void pad(ByteArrayOutputStream out) {
    while (out.size() % 4 != 0) {
      out.write(0);
    }
  }

  /**
   * Writes {@code target}: {@code base} (the node's initramfs), zeros to a 4-byte boundary (the
   * kernel expects each archive aligned and skips zeros between them), then the config archive.
   * Written beside the target and renamed, so a half-written file is never booted.
   */
  public static void write(Path base, ContainerProcess p, int exitPort, Path target)
      throws ContainerException {
    byte[] archive = archive(encode(p, exitPort));
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    try {
      Files.createDirectories(target.toAbsolutePath().getParent());
      try (OutputStream out = Files.newOutputStream(tmp)) {
        long size = Files.copy(base, out);
        out.write(new byte[(int) ((4 - size % 4) % 4)]);
        out.write(archive);
      }
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new ContainerException(
          "cannot write the container's initrd " + target + ": " + e.getMessage(), e);
    }
  }
}
