package dev.hearth.vmm.config;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Everything that describes one microVM, immutable and checked when made: a value out of range
 * fails with a {@link ConfigException} naming the field.
 *
 * @param name a label for logs and thread names (letters, digits, '.', '_' and '-')
 * @param vcpus how many vCPUs, 1 to {@value #MAX_VCPUS}
 * @param memoryMiB guest RAM in MiB, at least {@value #MIN_MEMORY_MIB}
 * @param boot what the guest boots
 * @param consoleBufferBytes how much console output the VM keeps for later reading: 1 KiB to 64
 *     MiB, or {@link #NO_CONSOLE_BUFFER} when its console sink keeps the output already
 * @param devices its virtio devices ({@link VmDevices#NONE} for none)
 * @param seccomp whether its vCPU and device threads run under their seccomp filters ({@link
 *     SeccompMode#ENFORCE} when null)
 */
public record VmConfig(
    String name,
    int vcpus,
    long memoryMiB,
    BootSource boot,
    int consoleBufferBytes,
    VmDevices devices,
    SeccompMode seccomp) {
  public static final int MAX_VCPUS = 32;
  public static final long MIN_MEMORY_MIB = 4;
  public static final long MAX_MEMORY_MIB = 1L << 20;
  public static final int DEFAULT_CONSOLE_BUFFER = 64 * 1024;

  /** Keep no console output in the VM (so that a console is not held twice). */
  public static final int NO_CONSOLE_BUFFER = 0;

  // Compiled once: a node makes a config for every VM it starts.
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,63}");

  public VmConfig {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new ConfigException(
          "name", "'" + name + "' must be 1 to 63 letters, digits, '.', '_' or '-'");
    }
    if (vcpus < 1 || vcpus > MAX_VCPUS) {
      throw new ConfigException("vcpus", vcpus + " is out of range 1.." + MAX_VCPUS);
    }
    if (memoryMiB < MIN_MEMORY_MIB) {
      throw new ConfigException(
          "memoryMiB", memoryMiB + " MiB is below the minimum of " + MIN_MEMORY_MIB + " MiB");
    }
    if (memoryMiB > MAX_MEMORY_MIB) {
      throw new ConfigException(
          "memoryMiB", memoryMiB + " MiB is above the maximum of " + MAX_MEMORY_MIB + " MiB");
    }
    Objects.requireNonNull(boot, "boot");
    if (consoleBufferBytes != NO_CONSOLE_BUFFER
        && (consoleBufferBytes < 1024 || consoleBufferBytes > (64 << 20))) {
      throw new ConfigException(
          "consoleBufferBytes", consoleBufferBytes + " is neither 0 nor in range 1 KiB..64 MiB");
    }
    if (devices == null) {
      devices = VmDevices.NONE;
    }
    if (seccomp == null) {
      seccomp = SeccompMode.ENFORCE;
    }
  }

  /** A config whose threads run under their seccomp filters. */
  public VmConfig(
      String name,
      int vcpus,
      long memoryMiB,
      BootSource boot,
      int consoleBufferBytes,
      VmDevices devices) {
    this(name, vcpus, memoryMiB, boot, consoleBufferBytes, devices, SeccompMode.ENFORCE);
  }

  /** A config without virtio devices. */
  public VmConfig(String name, int vcpus, long memoryMiB, BootSource boot, int consoleBufferBytes) {
    this(name, vcpus, memoryMiB, boot, consoleBufferBytes, VmDevices.NONE);
  }

  /** This config with {@code newDevices} instead of its devices. */
  public VmConfig withDevices(VmDevices newDevices) {
    return new VmConfig(name, vcpus, memoryMiB, boot, consoleBufferBytes, newDevices, seccomp);
  }

  /** This config with {@code mode} for its threads' seccomp filters. */
  public VmConfig withSeccomp(SeccompMode mode) {
    return new VmConfig(name, vcpus, memoryMiB, boot, consoleBufferBytes, devices, mode);
  }

  /** A config with the default console buffer and no virtio devices. */
  public static VmConfig of(String name, int vcpus, long memoryMiB, BootSource boot) {
    return new VmConfig(name, vcpus, memoryMiB, boot, DEFAULT_CONSOLE_BUFFER);
  }

  /** Guest RAM in bytes. */
  public long memoryBytes() {
    return memoryMiB << 20;
  }
}
