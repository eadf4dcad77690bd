package dev.hearth.vmm.loader;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.TestMemory;
import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Hostile kernels, initrd placements and command lines: every input either loads within guest
 * memory or fails with a {@link LoaderException}; nothing else escapes, and nothing takes long.
 */
class LoaderFuzzTest {
  private static final int IMAGES = 20_000;
  private static final long MEMORY = 8 << 20;
  private static final long[] INTERESTING = {
    0,
    1,
    -1,
    0x7fff_ffff_ffff_ffffL,
    0x8000_0000_0000_0000L,
    0xffff_ffffL,
    0x1_0000_0000L,
    0x100000,
    0x1000000,
    MEMORY,
    MEMORY - 1,
    MEMORY + 1,
    56,
    64,
    4096,
    1L << 40
  };

  private final Random r = new Random(0x10AD);

  private long interesting() {
    long v = INTERESTING[r.nextInt(INTERESTING.length)];
    return r.nextInt(4) == 0 ? v + r.nextInt(16) - 8 : v;
  }

  /** Overwrites a field (1, 2, 4 or 8 bytes) at a random offset, biased to the headers. */
  private byte[] mutate(byte[] base, int headerBytes) {
    byte[] img = base.clone();
    ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
    int k = 1 + r.nextInt(4);
    for (int m = 0; m < k; m++) {
      int width = 1 << r.nextInt(4);
      int span = Math.min(img.length, r.nextInt(4) == 0 ? img.length : headerBytes) - width;
      int at = r.nextInt(Math.max(1, span));
      long v = r.nextBoolean() ? interesting() : r.nextLong();
      switch (width) {
        case 1 -> img[at] = (byte) v;
        case 2 -> b.putShort(at, (short) v);
        case 4 -> b.putInt(at, (int) v);
        default -> b.putLong(at, v);
      }
    }
    return r.nextInt(50) == 0 ? java.util.Arrays.copyOf(img, r.nextInt(img.length)) : img;
  }

  /** Whether {@code image} loaded (checked) rather than being refused. */
  private static boolean loadOrRefuse(byte[] image, GuestMemory mem, String name) {
    try {
      LoadedKernel k = KernelLoader.load(image, mem, name);
      assertThat(mem.isValid(GuestAddress.of(k.entry()), 1)).as("entry in memory").isTrue();
      assertThat(Long.compareUnsigned(k.end(), mem.end().raw())).isLessThanOrEqualTo(0);
      return true;
    } catch (LoaderException expected) {
      return false;
    }
  }

  @Test
  void mutatedElfKernelsLoadOrAreRefused() throws Exception {
    byte[] hello = Files.readAllBytes(Path.of("target/guests/hello.elf"));
    byte[] many = HostileImageTest.elfWithSegments(40, 0x100000, 0x1000);
    GuestMemory mem = TestMemory.of(MEMORY);
    long started = System.nanoTime();
    int loaded = 0;
    for (int i = 0; i < IMAGES; i++) {
      byte[] base = r.nextBoolean() ? hello : many;
      loaded += loadOrRefuse(mutate(base, 64 + 56 * 40), mem, "elf" + i) ? 1 : 0;
    }
    System.out.printf(
        "ELF loader fuzz: %,d images in %.1f s, %,d loaded%n",
        IMAGES, (System.nanoTime() - started) / 1e9, loaded);
    assertThat(loaded).isBetween(1, IMAGES - 1);
  }

  @Test
  void mutatedBzImagesLoadOrAreRefused() {
    GuestMemory mem = TestMemory.of(32 << 20);
    long started = System.nanoTime();
    int loaded = 0;
    for (int i = 0; i < IMAGES; i++) {
      byte[] base = LoaderTest.bzImage(0x0206 + r.nextInt(12), 0x1000000, 0x10000);
      loaded += loadOrRefuse(mutate(base, 0x290), mem, "bz" + i) ? 1 : 0;
    }
    System.out.printf(
        "bzImage loader fuzz: %,d images in %.1f s, %,d loaded%n",
        IMAGES, (System.nanoTime() - started) / 1e9, loaded);
    assertThat(loaded).isBetween(1, IMAGES - 1);
  }

  @Test
  void initrdPlacementsFitOrAreRefused() {
    for (int i = 0; i < 200_000; i++) {
      long size = r.nextBoolean() ? interesting() : r.nextLong(MEMORY * 2);
      long end = r.nextBoolean() ? interesting() : r.nextLong(MEMORY);
      long max = r.nextInt(4) == 0 ? interesting() : 0x37ff_ffffL;
      long lowRamEnd = r.nextBoolean() ? MEMORY : interesting();
      LoadedKernel k = new LoadedKernel(0x100000, end, Optional.empty(), max);
      long at;
      try {
        at = InitrdPlacement.place(size, k, lowRamEnd);
      } catch (LoaderException refused) {
        continue;
      }
      assertThat(size).isPositive();
      assertThat(at % 4096).isZero();
      assertThat(at).isGreaterThanOrEqualTo(end).isGreaterThanOrEqualTo(0);
      assertThat(at + size).isLessThanOrEqualTo(lowRamEnd);
      assertThat(Long.compareUnsigned(at + size - 1, max)).isLessThanOrEqualTo(0);
    }
  }

  @Test
  void commandLinesAreWellFormedOrRefused() {
    String alphabet = "abz=. \"\t\u0000\u007f\u00e9-_,:/0";
    for (int i = 0; i < 200_000; i++) {
      KernelCmdline c = new KernelCmdline(2 + r.nextInt(64));
      for (int p = r.nextInt(5); p > 0; p--) {
        StringBuilder s = new StringBuilder();
        for (int n = r.nextInt(24); n > 0; n--) {
          s.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        try {
          c.append(s.toString());
        } catch (LoaderException refused) {
          // the line is unchanged
        }
      }
      byte[] line = c.toBytes();
      assertThat(line[line.length - 1]).isZero();
      int quotes = 0;
      for (int j = 0; j < line.length - 1; j++) {
        assertThat(line[j]).isBetween((byte) 0x20, (byte) 0x7e);
        quotes += line[j] == '"' ? 1 : 0;
      }
      assertThat(quotes % 2).isZero();
    }
  }
}
