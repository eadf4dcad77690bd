package dev.hearth.vmm.loader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.vmm.TestMemory;
import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class LoaderTest {
  private static final Path HELLO = Path.of("target/guests/hello.elf");

  @Test
  void loadsATestGuestElfAtItsPhysicalAddresses() throws Exception {
    GuestMemory mem = TestMemory.of(8 << 20);
    byte[] elf = Files.readAllBytes(HELLO);
    LoadedKernel k = KernelLoader.load(HELLO, mem);
    assertThat(k.entry()).isEqualTo(0x100000);
    assertThat(k.setupHeader()).isEmpty();
    assertThat(k.end()).isGreaterThan(0x100000);
    // The first segment's bytes are where its header says.
    ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
    int ph = (int) b.getLong(32);
    long off = b.getLong(ph + 8);
    assertThat(mem.readLong(GuestAddress.of(0x100000))).isEqualTo(b.getLong((int) off));
  }

  @Test
  void rejectsHostileElfHeaders() throws Exception {
    byte[] elf = Files.readAllBytes(HELLO);
    ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
    int ph = (int) b.getLong(32);

    byte[] pastFile = elf.clone();
    ByteBuffer.wrap(pastFile).order(ByteOrder.LITTLE_ENDIAN).putLong(ph + 32, Long.MAX_VALUE);
    assertThatThrownBy(() -> KernelLoader.load(pastFile, TestMemory.of(8 << 20), "x"))
        .isInstanceOf(LoaderException.class)
        .hasMessageContaining("outside the file");

    byte[] low = elf.clone();
    ByteBuffer.wrap(low).order(ByteOrder.LITTLE_ENDIAN).putLong(ph + 24, 0x7000);
    assertThatThrownBy(() -> KernelLoader.load(low, TestMemory.of(8 << 20), "x"))
        .hasMessageContaining("below 0x100000");

    byte[] huge = elf.clone();
    ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(ph + 40, 1L << 40);
    assertThatThrownBy(() -> KernelLoader.load(huge, TestMemory.of(8 << 20), "x"))
        .hasMessageContaining("does not fit");

    byte[] phoff = elf.clone();
    ByteBuffer.wrap(phoff).order(ByteOrder.LITTLE_ENDIAN).putLong(32, -64);
    assertThatThrownBy(() -> KernelLoader.load(phoff, TestMemory.of(8 << 20), "x"))
        .hasMessageContaining("program headers");

    assertThatThrownBy(() -> KernelLoader.load(new byte[100], TestMemory.of(1 << 20), "junk"))
        .hasMessageContaining("neither");
  }

  static byte[] bzImage(int version, long prefAddress, int initSize) {
    byte[] img = new byte[1024 + 8192];
    ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
    img[0x1f1] = 1; // setup sectors: the kernel starts at 2 * 512
    b.putShort(0x1fe, (short) 0xaa55);
    img[0x200] = (byte) 0xeb;
    img[0x201] = 0x66; // header runs to 0x268
    b.putInt(0x202, 0x53726448);
    b.putShort(0x206, (short) version);
    img[0x211] = 1; // LOADED_HIGH
    b.putInt(0x22c, 0x37ffffff);
    b.putShort(0x236, (short) 1); // XLF_KERNEL_64
    b.putLong(0x258, prefAddress);
    b.putInt(0x260, initSize);
    img[1024] = 0x48; // first kernel byte
    return img;
  }

  @Test
  void loadsABzImageAtItsPreferredAddressWithTheSixtyFourBitEntry() {
    GuestMemory mem = TestMemory.of(32 << 20);
    LoadedKernel k = KernelLoader.load(bzImage(0x020f, 0x1000000, 0x10000), mem, "bz");
    assertThat(k.entry()).isEqualTo(0x1000200);
    assertThat(k.end()).isEqualTo(0x1010000);
    assertThat(mem.readByte(GuestAddress.of(0x1000000))).isEqualTo((byte) 0x48);
    assertThat(k.setupHeader()).isPresent();
    assertThat(k.setupHeader().get()).hasSize(0x268 - 0x1f1);
    assertThat(k.initrdAddressMax()).isEqualTo(0x37ffffff);
  }

  @Test
  void rejectsOldOrThirtyTwoBitOnlyBzImages() {
    assertThatThrownBy(
            () -> KernelLoader.load(bzImage(0x0205, 0, 0), TestMemory.of(32 << 20), "old"))
        .hasMessageContaining("older than 2.06");
    byte[] no64 = bzImage(0x020f, 0x1000000, 0x10000);
    no64[0x236] = 0;
    assertThatThrownBy(() -> KernelLoader.load(no64, TestMemory.of(32 << 20), "b"))
        .hasMessageContaining("64-bit");
    assertThatThrownBy(
            () ->
                KernelLoader.load(
                    bzImage(0x020f, 0x1000000, 1 << 30), TestMemory.of(32 << 20), "big"))
        .hasMessageContaining("more than guest memory");
  }

  @Test
  void initrdGoesAsHighAsItFitsPageAligned() {
    LoadedKernel k = new LoadedKernel(0x100000, 0x200000, java.util.Optional.empty(), 0x37ffffff);
    assertThat(InitrdPlacement.place(5000, k, 64 << 20)).isEqualTo((64L << 20) - 8192);
    assertThatThrownBy(() -> InitrdPlacement.place(63L << 20, k, 64 << 20))
        .isInstanceOf(LoaderException.class);
  }

  @Test
  void commandLineBuilderRejectsWhatTheKernelWouldMisparse() {
    KernelCmdline c = new KernelCmdline(32).append(" console=ttyS0 ").param("reboot", "k");
    assertThat(c.toString()).isEqualTo("console=ttyS0 reboot=k");
    assertThat(c.toBytes()).endsWith(new byte[] {'k', 0});
    assertThatThrownBy(() -> c.append("x".repeat(20))).hasMessageContaining("over the limit");
    assertThat(c.toString()).isEqualTo("console=ttyS0 reboot=k");
    assertThatThrownBy(() -> new KernelCmdline(64).append("a=\"b")).hasMessageContaining("quote");
    assertThatThrownBy(() -> new KernelCmdline(64).append("a=\u0007b")).hasMessageContaining("0x7");
  }
}
