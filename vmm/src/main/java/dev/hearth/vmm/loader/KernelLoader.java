package dev.hearth.vmm.loader;

import dev.hearth.vmm.memory.GuestMemory;
import java.nio.file.Path;

/**
 * Loads a kernel image, ELF {@code vmlinux} or {@code bzImage}, whichever the file is, straight
 * from the file into guest memory (never whole into the heap).
 */
public final class KernelLoader {
  /** Bytes that decide the format and hold every header field the loaders read first. */
  static final int HEAD = BzImageLoader.HEADER_END_MAX;

  private KernelLoader() {}

  /**
   * Loads the kernel at {@code path} into {@code memory}, which must be fresh (all zero, as a new
   * VM's is): what the image leaves unwritten, such as an ELF's bss, is taken to read zero.
   *
   * @throws LoaderException if the file is unreadable, larger than guest memory, of neither format,
   *     or malformed
   */
  public static LoadedKernel load(Path path, GuestMemory memory) {
    try (Image image = Image.open(path, "kernel")) {
      return load(image, memory);
    }
  }

  /** Loads {@code image} (named {@code name} in messages) into fresh {@code memory}. */
  public static LoadedKernel load(byte[] image, GuestMemory memory, String name) {
    return load(Image.of(image, name), memory);
  }

  private static LoadedKernel load(Image image, GuestMemory memory) {
    if (image.size() > memory.totalSize()) {
      throw new LoaderException(
          image.name()
              + " is "
              + image.size()
              + " bytes, larger than guest memory ("
              + memory.totalSize()
              + " bytes)");
    }
    byte[] head = image.head(HEAD);
    if (ElfLoader.isElf(head)) {
      return ElfLoader.load(image, memory);
    }
    if (BzImageLoader.isBzImage(head)) {
      return BzImageLoader.load(image, head, memory);
    }
    throw new LoaderException(image.name() + " is neither an ELF vmlinux nor a bzImage");
  }
}
