package dev.hearth.vmm.vm;

import dev.hearth.vmm.config.BootSource;
import dev.hearth.vmm.config.VmConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;

/**
 * Finds out, once per JVM, whether this host's KVM can run Linux, by booting a probe guest ({@code
 * linuxprobe.elf}, built with the test guests and shipped in this jar): a KVM that emulates every
 * instruction (kvm_pvm without hardware virtualisation) fails on an instruction Linux needs, or
 * runs the guest's million-iteration loop thousands of times slower than hardware does. Natively
 * the whole probe takes about a millisecond, under the nested-KVM harness tens; emulated, seconds.
 * Such a KVM runs the tiny test guests but would spin on a Linux kernel for minutes without a word,
 * so {@code hearth run} and the tests ask here first.
 */
public final class LinuxKvmProbe {
  /** Above this, the guest ran emulated: 1M loop iterations take ~1.8 s there, ~1 ms natively. */
  static final Duration EMULATION_THRESHOLD = Duration.ofMillis(500);

  private static final Path KVM = Path.of("/dev/kvm");
  private static final String GUEST = "linuxprobe.elf";
  private static final String SLOW = "KVM emulates instructions: a 1M-iteration loop took ";
  private static final byte[] LINUX_BANNER = "Linux version ".getBytes(StandardCharsets.US_ASCII);

  private static volatile Optional<String> verdict;

  private LinuxKvmProbe() {}

  /**
   * Empty when KVM here runs Linux guests, else a sentence saying why it cannot (no usable {@code
   * /dev/kvm} included).
   */
  public static synchronized Optional<String> whyLinuxCannotRun() {
    if (verdict == null) {
      verdict = probe();
    }
    return verdict;
  }

  /**
   * Whether {@code kernel} is a Linux kernel: a bzImage, or an ELF that carries Linux's version
   * banner. The tiny test guests are neither, and run on any KVM.
   */
  public static boolean looksLikeLinux(Path kernel) {
    byte[] image;
    try {
      image = Files.readAllBytes(kernel);
    } catch (IOException | OutOfMemoryError e) {
      return false; // the loader reports an unreadable kernel with its own message
    }
    boolean bzImage =
        image.length > 0x206
            && image[0x202] == 'H'
            && image[0x203] == 'd'
            && image[0x204] == 'r'
            && image[0x205] == 'S';
    return bzImage || indexOf(image, LINUX_BANNER) >= 0;
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static Optional<String> probe() {
    if (!Files.exists(KVM)) {
      return Optional.of(KVM + " does not exist");
    }
    try (FileChannel _ = FileChannel.open(KVM, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      // Usable by this process.
    } catch (IOException | SecurityException e) {
      return Optional.of("cannot open " + KVM + " read-write: " + e.getMessage());
    }
    Path guest = extractGuest();
    try {
      Optional<String> first = runProbe(guest);
      // The first VM of a cold JVM inside L1 (QEMU TCG, a loaded host) measured 676-740 ms, over
      // the threshold; a second run is warm. An emulating KVM stays slow however often it runs.
      return first.isPresent() && first.get().startsWith(SLOW) ? runProbe(guest) : first;
    } finally {
      try {
        Files.deleteIfExists(guest);
      } catch (IOException e) {
        // A leftover temp file of a few kilobytes.
      }
    }
  }

  private static Path extractGuest() {
    try (InputStream in = LinuxKvmProbe.class.getResourceAsStream(GUEST)) {
      if (in == null) {
        throw new IllegalStateException(
            "the KVM probe guest " + GUEST + " is not in this build (the vmm build makes it)");
      }
      Path file = Files.createTempFile("hearth-linuxprobe-", ".elf");
      Files.write(file, in.readAllBytes());
      return file;
    } catch (IOException e) {
      throw new IllegalStateException("cannot write the KVM probe guest: " + e.getMessage(), e);
    }
  }

  private static Optional<String> runProbe(Path guest) {
    VmConfig config = VmConfig.of("linuxprobe", 1, 8, BootSource.of(guest, ""));
    try (MicroVm vm = MicroVm.create(config, null)) {
      vm.start();
      Optional<VmExit> end = vm.waitForExit(Duration.ofSeconds(60));
      return judge(end, vm.console().text());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while probing KVM", e);
    }
  }

  /** The verdict from how the probe guest ended and what it printed. */
  public static Optional<String> judge(Optional<VmExit> end, String console) {
    if (end.isEmpty()) {
      return Optional.of("KVM ran the probe guest's 1M-iteration loop for over a minute");
    }
    VmExit exit = end.get();
    if (exit.reason() == ExitReason.EMULATION_FAILURE) {
      return Optional.of(
          "KVM emulates instructions and cannot execute one Linux needs (" + exit.message() + ")");
    }
    if (exit.reason() != ExitReason.RESET || !console.contains("linuxprobe: loop done")) {
      return Optional.of("the KVM probe guest ended unexpectedly: " + exit);
    }
    if (console.contains("popcnt wrong")) {
      return Optional.of("KVM computed popcnt wrongly");
    }
    if (exit.uptime().compareTo(EMULATION_THRESHOLD) > 0) {
      return Optional.of(SLOW + exit.uptime().toMillis() + " ms (hardware: about 1 ms)");
    }
    return Optional.empty();
  }
}
