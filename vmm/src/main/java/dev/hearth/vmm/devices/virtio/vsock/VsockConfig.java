package dev.hearth.vmm.devices.virtio.vsock;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A virtio-vsock device in Firecracker's hybrid model.
 *
 * @param guestCid the guest's context ID (3 or more)
 * @param udsPath the host's Unix socket: host programs connect here and send {@code CONNECT
 *     <port>\n}; guest connections to port P go to {@code <udsPath>_P}
 * @param maxBufferedBytes the most heap the device holds, across its connections, for guest data
 *     that host sockets have not taken yet; a connection that would need more is reset
 */
public record VsockConfig(long guestCid, Path udsPath, long maxBufferedBytes) {
  /** The default buffer budget: 64 connections whose host side stopped reading, in full. */
  public static final long DEFAULT_MAX_BUFFERED_BYTES = 16L << 20;

  public VsockConfig {
    Objects.requireNonNull(udsPath, "udsPath");
    if (guestCid < 3 || guestCid > 0xffffffffL) {
      throw new IllegalArgumentException("guest CID must be in [3, 2^32): " + guestCid);
    }
    if (maxBufferedBytes < 0) {
      throw new IllegalArgumentException("maxBufferedBytes must not be negative");
    }
  }

  /** A device with the default buffer budget. */
  public VsockConfig(long guestCid, Path udsPath) {
    this(guestCid, udsPath, DEFAULT_MAX_BUFFERED_BYTES);
  }
}
