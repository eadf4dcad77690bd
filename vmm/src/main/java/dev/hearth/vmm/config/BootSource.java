package dev.hearth.vmm.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.Optional;

/**
 * What the guest boots: a kernel (ELF {@code vmlinux} or {@code bzImage}), an optional initrd, and
 * the kernel command line. The files must be readable regular files when the record is made.
 *
 * @param kernel the kernel image
 * @param initrd an initial ramdisk, if any
 * @param cmdline the kernel command line (printable ASCII); the VMM appends its device parameters
 */
public record BootSource(Path kernel, Optional<Path> initrd, String cmdline) {
  /** The longest command line a user may give; the rest of the 2 KiB is left for devices. */
  public static final int MAX_CMDLINE = 1536;

  public BootSource {
    Objects.requireNonNull(initrd, "initrd");
    requireReadable("boot.kernel", kernel);
    initrd.ifPresent(p -> requireReadable("boot.initrd", p));
    if (cmdline == null) {
      cmdline = "";
    }
    if (cmdline.length() > MAX_CMDLINE) {
      throw new ConfigException(
          "boot.cmdline",
          "is " + cmdline.length() + " characters, over the limit of " + MAX_CMDLINE);
    }
    for (int i = 0; i < cmdline.length(); i++) {
      char c = cmdline.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        throw new ConfigException(
            "boot.cmdline",
            "holds a character the kernel cannot take (0x" + Integer.toHexString(c) + ") at " + i);
      }
    }
  }

  /** A kernel with a command line and no initrd. */
  public static BootSource of(Path kernel, String cmdline) {
    return new BootSource(kernel, Optional.empty(), cmdline);
  }

  /** One stat and one access check: a node makes a boot source for every VM it starts. */
  private static void requireReadable(String field, Path path) {
    if (path == null) {
      throw new ConfigException(field, "is required");
    }
    BasicFileAttributes attributes;
    try {
      attributes = Files.readAttributes(path, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      throw new ConfigException(field, path + " does not exist");
    } catch (IOException e) {
      throw new ConfigException(field, path + " cannot be read: " + e.getMessage());
    }
    if (!attributes.isRegularFile()) {
      throw new ConfigException(field, path + " is not a regular file");
    }
    if (!Files.isReadable(path)) {
      throw new ConfigException(field, path + " is not readable");
    }
  }
}
