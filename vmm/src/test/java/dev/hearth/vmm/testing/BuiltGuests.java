package dev.hearth.vmm.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the vmm test build puts the freestanding test guests it compiles: the {@code hearth.guests}
 * system property (each module's build sets it, and it is forwarded into L1), else {@code
 * target/guests} when run from the vmm module, else {@code ../vmm/target/guests} from a sibling
 * module.
 */
public final class BuiltGuests {
  private BuiltGuests() {}

  /** The directory of the built guests. */
  public static Path directory() {
    String configured = System.getProperty("hearth.guests");
    if (configured != null) {
      return Path.of(configured);
    }
    Path local = Path.of("target", "guests");
    return Files.isDirectory(local) ? local : Path.of("..", "vmm", "target", "guests");
  }

  /** The guest {@code name}, as {@code <name>.elf} in {@link #directory()}. */
  public static Path elf(String name) {
    return directory().resolve(name + ".elf");
  }
}
