package dev.hearth.vmm.loader;

import dev.hearth.vmm.memory.GuestMemory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loads a kernel image, ELF {@code vmlinux} or {@code bzImage}, whichever the file is. */
public final class KernelLoader {
  private KernelLoader() {}

  /**
   * Loads the kernel at {@code path} into {@code memory}.
   *
   * @throws LoaderException if the file is unreadable, of neither format, or malformed
   */
  public static LoadedKernel load(Path path, GuestMemory memory) {
    byte[] image;
    try {
      image = Files.readAllBytes(path);
    } catch (IOException e) {
      throw new LoaderException("cannot read kernel " + path + ": " + e.getMessage(), e);
    }
    return load(image, memory, path.toString());
  }

  /** Loads {@code image} (named {@code name} in messages) into {@code memory}. */
  public static LoadedKernel load(byte[] image, GuestMemory memory, String name) {
    if (ElfLoader.isElf(image)) {
      return ElfLoader.load(image, memory, name);
    }
    if (BzImageLoader.isBzImage(image)) {
      return BzImageLoader.load(image, memory, name);
    }
    throw new LoaderException(name + " is neither an ELF vmlinux nor a bzImage");
  }
}
