package dev.hearth.vmm.config;

import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A virtio-blk drive backed by a disk image file. Drives appear to the guest in the order the VM's
 * config lists them ({@code /dev/vda}, {@code /dev/vdb}, ...).
 *
 * @param id names the drive in errors and in {@code VmRateLimiters.update} (letters, digits, '_'
 *     and '-', up to 63)
 * @param path the image file; a regular file, readable, and writable unless {@code readOnly}
 * @param readOnly whether the guest may only read (the device offers VIRTIO_BLK_F_RO and fails
 *     writes)
 * @param serial what the guest reads with GET_ID: up to 20 ASCII characters, may be empty
 * @param rateLimit bandwidth (bytes read or written) and ops (requests) limits; {@link
 *     RateLimiterConfig#UNLIMITED} for none
 */
public record DriveConfig(
    String id, Path path, boolean readOnly, String serial, RateLimiterConfig rateLimit) {
  /** The longest serial GET_ID can return. */
  public static final int MAX_SERIAL = 20;

  public DriveConfig {
    DeviceIds.check("drives", id);
    String field = "drives[" + id + "]";
    if (path == null) {
      throw new ConfigException(field + ".path", "is required");
    }
    if (!Files.isRegularFile(path)) {
      throw new ConfigException(
          field + ".path",
          path + (Files.exists(path) ? " is not a regular file" : " does not exist"));
    }
    if (!Files.isReadable(path)) {
      throw new ConfigException(field + ".path", path + " is not readable");
    }
    if (!readOnly && !Files.isWritable(path)) {
      throw new ConfigException(
          field + ".path", path + " is not writable (set readOnly for a read-only drive)");
    }
    if (serial == null) {
      serial = "";
    }
    if (serial.length() > MAX_SERIAL || !StandardCharsets.US_ASCII.newEncoder().canEncode(serial)) {
      throw new ConfigException(
          field + ".serial",
          "'" + serial + "' must be at most " + MAX_SERIAL + " ASCII characters");
    }
    if (rateLimit == null) {
      rateLimit = RateLimiterConfig.UNLIMITED;
    }
  }

  /** A drive with no serial and no rate limit. */
  public static DriveConfig of(String id, Path path, boolean readOnly) {
    return new DriveConfig(id, path, readOnly, "", RateLimiterConfig.UNLIMITED);
  }

  /** This drive with {@code limit} as its rate limiter. */
  public DriveConfig withRateLimit(RateLimiterConfig limit) {
    return new DriveConfig(id, path, readOnly, serial, limit);
  }

  /** This drive with {@code text} as its serial. */
  public DriveConfig withSerial(String text) {
    return new DriveConfig(id, path, readOnly, text, rateLimit);
  }
}
