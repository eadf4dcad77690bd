package dev.hearth.vmm.devices.virtio.vsock;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A virtio-vsock device in Firecracker's hybrid model.
 *
 * @param guestCid the guest's context ID (3 or more)
 * @param udsPath the host's Unix socket: host programs connect here and send {@code CONNECT
 *     <port>\n}; guest connections to port P go to {@code <udsPath>_P}
 */
public record VsockConfig(long guestCid, Path udsPath) {
  public VsockConfig {
    Objects.requireNonNull(udsPath, "udsPath");
    if (guestCid < 3 || guestCid > 0xffffffffL) {
      throw new IllegalArgumentException("guest CID must be in [3, 2^32): " + guestCid);
    }
  }
}
