package dev.hearth.vmm.vm;

import dev.hearth.vmm.config.BootSource;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.testing.BuiltGuests;
import java.nio.file.Path;

/** The freestanding guests the test build compiles into {@code target/guests}. */
final class TestGuests {
  private TestGuests() {}

  static Path path(String name) {
    return BuiltGuests.elf(name);
  }

  static VmConfig config(String guest, int vcpus, long memoryMiB, String cmdline) {
    return VmConfig.of(guest, vcpus, memoryMiB, BootSource.of(path(guest), cmdline));
  }
}
