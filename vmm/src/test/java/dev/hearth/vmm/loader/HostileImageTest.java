package dev.hearth.vmm.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.hearth.vmm.TestMemory;
import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestMemory;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kernels and initrds as a hostile image author makes them (issue 14, findings 5 and 6). */
class HostileImageTest {
  @TempDir Path dir;

  /** A sparse file of {@code size} bytes that starts with {@code head}: no disk, no time. */
  private Path sparse(String name, long size, byte[] head) throws IOException {
    Path p = dir.resolve(name);
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.write(head);
      f.setLength(size);
    }
    return p;
  }

  @Test
  void aKernelLargerThanGuestMemoryIsRefusedBeforeItIsRead() throws IOException {
    byte[] elf = Files.readAllBytes(Path.of("target/guests/hello.elf"));
    Path huge = sparse("huge.elf", 3L << 30, elf);
    assertThatThrownBy(() -> KernelLoader.load(huge, TestMemory.of(8 << 20)))
        .isInstanceOf(LoaderException.class)
        .hasMessageContaining("larger than guest memory");
  }

  @Test
  void anInitrdLargerThanGuestMemoryIsRefusedBeforeItIsRead() throws IOException {
    Path huge = sparse("huge.initrd", 3L << 30, new byte[] {1});
    LoadedKernel k = new LoadedKernel(0x100000, 0x200000, Optional.empty(), 0x37ffffff);
    assertThatThrownBy(() -> InitrdPlacement.load(huge, k, TestMemory.of(8 << 20), 8 << 20))
        .isInstanceOf(LoaderException.class)
        .hasMessageContaining("does not fit");
  }

  @Test
  void aLargeInitrdIsStreamedIntoGuestMemoryByteForByte() throws IOException {
    byte[] data = new byte[(5 << 20) + 12345]; // several read chunks and a ragged end
    new Random(5).nextBytes(data);
    Path initrd = dir.resolve("initrd");
    Files.write(initrd, data);
    GuestMemory mem = TestMemory.of(16 << 20);
    LoadedKernel k = new LoadedKernel(0x100000, 0x200000, Optional.empty(), 0x37ffffff);
    long at = InitrdPlacement.load(initrd, k, mem, 16 << 20);
    byte[] back = new byte[data.length];
    mem.read(GuestAddress.of(at), back, 0, back.length);
    assertThat(back).isEqualTo(data);
  }

  @Test
  void aLargeBzImageIsStreamedIntoGuestMemoryByteForByte() throws IOException {
    byte[] img = LoaderTest.bzImage(0x020f, 0x1000000, 0x10000);
    byte[] body = new byte[(3 << 20) + 777];
    new Random(6).nextBytes(body);
    byte[] file = new byte[1024 + body.length];
    System.arraycopy(img, 0, file, 0, 1024);
    System.arraycopy(body, 0, file, 1024, body.length);
    Path bz = dir.resolve("bzImage");
    Files.write(bz, file);
    GuestMemory mem = TestMemory.of(32 << 20);
    LoadedKernel k = KernelLoader.load(bz, mem);
    assertThat(k.entry()).isEqualTo(0x1000200);
    byte[] back = new byte[body.length];
    mem.read(GuestAddress.of(0x1000000), back, 0, back.length);
    assertThat(back).isEqualTo(body);
  }

  /** An ELF whose {@code n} PT_LOAD segments all claim {@code memsz} bytes at {@code paddr}. */
  static byte[] elfWithSegments(int n, long paddr, long memsz) {
    int phoff = 64;
    byte[] elf = new byte[phoff + 56 * n + 16];
    ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
    b.put(0, new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1});
    b.putShort(18, (short) 62);
    b.putLong(24, paddr);
    b.putLong(32, phoff);
    b.putShort(54, (short) 56);
    b.putShort(56, (short) n);
    for (int i = 0; i < n; i++) {
      int ph = phoff + 56 * i;
      b.putInt(ph, 1);
      b.putLong(ph + 8, elf.length - 16);
      b.putLong(ph + 24, paddr);
      b.putLong(ph + 32, 16);
      b.putLong(ph + 40, memsz);
    }
    return elf;
  }

  @Test
  void overlappingSegmentsAreRefusedBeforeAnyCopy() {
    // 30,000 segments over the same 7 MiB: 220 GB of memset when the loader zeroed bss.
    byte[] elf = elfWithSegments(30_000, 0x100000, 7 << 20);
    GuestMemory mem = TestMemory.of(8 << 20);
    assertTimeoutPreemptively(
        Duration.ofSeconds(2),
        () ->
            assertThatThrownBy(() -> KernelLoader.load(elf, mem, "amplifier"))
                .isInstanceOf(LoaderException.class)
                .hasMessageContaining("overlap"));
  }

  @Test
  void segmentsThatWrapAroundTheAddressSpaceAreRefused() {
    byte[] elf = elfWithSegments(1, 0xffff_ffff_ffff_f000L, 0x2000);
    assertThatThrownBy(() -> KernelLoader.load(elf, TestMemory.of(8 << 20), "wrap"))
        .isInstanceOf(LoaderException.class);
  }

  @Test
  void disjointSegmentsStillLoadAndLeaveTheirBssToFreshMemory() {
    byte[] elf = elfWithSegments(2, 0x100000, 0x1000);
    ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN).putLong(64 + 56 + 24, 0x200000);
    GuestMemory mem = TestMemory.of(8 << 20);
    mem.write(GuestAddress.of(0x200800), new byte[] {9}, 0, 1);
    LoadedKernel k = KernelLoader.load(elf, mem, "two");
    assertThat(k.end()).isEqualTo(0x201000);
    // Not written: in a new VM's memory it reads zero, and the kernel clears its bss anyway.
    assertThat(mem.readByte(GuestAddress.of(0x200800))).isEqualTo((byte) 9);
    assertThat(mem.readByte(GuestAddress.of(0x200801))).isZero();
  }
}
