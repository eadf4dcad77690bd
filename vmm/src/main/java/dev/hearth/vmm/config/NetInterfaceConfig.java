package dev.hearth.vmm.config;

import dev.hearth.vmm.devices.virtio.net.MacAddress;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import java.util.regex.Pattern;

/**
 * A virtio-net interface backed by an existing host tap, which the VMM opens by name ({@code
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR}) when the VM is created.
 *
 * @param id names the interface in errors and in {@code VmRateLimiters.update} (letters, digits,
 *     '_' and '-', up to 63)
 * @param tapName the host tap (1 to 15 characters, no '/', ':' or whitespace)
 * @param mac the guest's MAC address, offered as VIRTIO_NET_F_MAC; unicast and not all zeros
 * @param rxRateLimit limits frames the guest receives
 * @param txRateLimit limits frames the guest sends
 */
public record NetInterfaceConfig(
    String id,
    String tapName,
    MacAddress mac,
    RateLimiterConfig rxRateLimit,
    RateLimiterConfig txRateLimit) {
  /** IFNAMSIZ less the terminating NUL. */
  public static final int MAX_TAP_NAME = 15;

  private static final Pattern TAP_NAME = Pattern.compile("[^/:\\s]+");

  public NetInterfaceConfig {
    DeviceIds.check("netInterfaces", id);
    String field = "netInterfaces[" + id + "]";
    if (tapName == null
        || tapName.isEmpty()
        || tapName.length() > MAX_TAP_NAME
        || !TAP_NAME.matcher(tapName).matches()
        || tapName.equals(".")
        || tapName.equals("..")) {
      throw new ConfigException(
          field + ".tapName",
          "'"
              + tapName
              + "' must be 1 to "
              + MAX_TAP_NAME
              + " characters without '/', ':' or space");
    }
    if (mac == null) {
      throw new ConfigException(field + ".mac", "is required");
    }
    if ((mac.octets()[0] & 1) != 0 || mac.bits() == 0) {
      throw new ConfigException(field + ".mac", mac + " is not a unicast address");
    }
    if (rxRateLimit == null) {
      rxRateLimit = RateLimiterConfig.UNLIMITED;
    }
    if (txRateLimit == null) {
      txRateLimit = RateLimiterConfig.UNLIMITED;
    }
  }

  /** An interface without rate limits. */
  public static NetInterfaceConfig of(String id, String tapName, MacAddress mac) {
    return new NetInterfaceConfig(
        id, tapName, mac, RateLimiterConfig.UNLIMITED, RateLimiterConfig.UNLIMITED);
  }

  /** This interface with the given receive and transmit limits. */
  public NetInterfaceConfig withRateLimits(RateLimiterConfig rx, RateLimiterConfig tx) {
    return new NetInterfaceConfig(id, tapName, mac, rx, tx);
  }
}
