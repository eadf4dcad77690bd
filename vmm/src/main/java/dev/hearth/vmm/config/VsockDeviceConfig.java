package dev.hearth.vmm.config;

import dev.hearth.vmm.devices.virtio.vsock.VsockConfig;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A virtio-vsock device in Firecracker's hybrid model: host programs connect to the Unix socket
 * {@code udsPath} and send {@code CONNECT <port>\n}; a guest connection to host port P goes to the
 * Unix socket {@code <udsPath>_P}.
 *
 * @param guestCid the guest's context ID, 3 to 2^32 - 2 (0 to 2 are reserved, 2^32 - 1 means any)
 * @param udsPath where the VMM binds its socket (a stale socket there is replaced, a live one or
 *     any other file never: the VM then fails to start), removed when the VM ends if still its; its
 *     directory must exist, and the path leaves room for the {@code _<port>} suffix within a Unix
 *     socket address
 */
public record VsockDeviceConfig(long guestCid, Path udsPath) {
  /** sun_path holds 108 bytes with the NUL; "_4294967295" takes 11 of them. */
  public static final int MAX_UDS_PATH = 96;

  public VsockDeviceConfig {
    if (guestCid < VsockConfig.MIN_GUEST_CID || guestCid > VsockConfig.MAX_GUEST_CID) {
      throw new ConfigException(
          "vsock.guestCid",
          guestCid
              + " is out of range "
              + VsockConfig.MIN_GUEST_CID
              + ".."
              + VsockConfig.MAX_GUEST_CID);
    }
    if (udsPath == null) {
      throw new ConfigException("vsock.udsPath", "is required");
    }
    if (udsPath.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length
        > MAX_UDS_PATH) {
      throw new ConfigException(
          "vsock.udsPath", udsPath + " is longer than " + MAX_UDS_PATH + " bytes");
    }
    Path dir = udsPath.toAbsolutePath().getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      throw new ConfigException("vsock.udsPath", "directory " + dir + " does not exist");
    }
    if (Files.isDirectory(udsPath)) {
      throw new ConfigException("vsock.udsPath", udsPath + " is a directory");
    }
  }
}
