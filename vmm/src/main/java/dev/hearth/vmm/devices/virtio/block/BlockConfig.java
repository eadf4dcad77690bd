package dev.hearth.vmm.devices.virtio.block;

import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A virtio-blk drive.
 *
 * @param path the disk image file
 * @param readOnly whether the guest may only read (VIRTIO_BLK_F_RO; writes fail with IOERR)
 * @param serial what GET_ID returns: up to 20 ASCII bytes
 * @param rateLimit bandwidth (bytes read or written) and ops (requests) limits
 */
public record BlockConfig(Path path, boolean readOnly, String serial, RateLimiterConfig rateLimit) {
  /** Bytes of a GET_ID answer. */
  public static final int ID_BYTES = 20;

  public BlockConfig {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(serial, "serial");
    Objects.requireNonNull(rateLimit, "rateLimit");
    if (!StandardCharsets.US_ASCII.newEncoder().canEncode(serial) || serial.length() > ID_BYTES) {
      throw new IllegalArgumentException(
          "block serial must be at most " + ID_BYTES + " ASCII characters: '" + serial + "'");
    }
  }
}
