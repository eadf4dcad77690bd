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
  /** The lowest guest CID: 0 (hypervisor), 1 (loopback) and 2 (host) are reserved. */
  public static final long MIN_GUEST_CID = 3;

  /** The highest guest CID: 2^32 - 1 is VMADDR_CID_ANY. */
  public static final long MAX_GUEST_CID = 0xffff_fffeL;

  /** The default buffer budget: 64 connections whose host side stopped reading, in full. */
  public static final long DEFAULT_MAX_BUFFERED_BYTES = 16L << 20;

  public VsockConfig {
    Objects.requireNonNull(udsPath, "udsPath");
    if (guestCid < MIN_GUEST_CID || guestCid > MAX_GUEST_CID) {
      throw new IllegalArgumentException(
          "guest CID must be in " + MIN_GUEST_CID + ".." + MAX_GUEST_CID + ": " + guestCid);
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
