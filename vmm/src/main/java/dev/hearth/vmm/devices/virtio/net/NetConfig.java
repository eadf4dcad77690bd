package dev.hearth.vmm.devices.virtio.net;

import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import java.util.Objects;

/**
 * A virtio-net interface.
 *
 * @param tapName the host tap device it is backed by
 * @param mac the guest's MAC address, offered as VIRTIO_NET_F_MAC
 * @param rxRateLimit limits frames the guest receives
 * @param txRateLimit limits frames the guest sends
 */
public record NetConfig(
    String tapName, MacAddress mac, RateLimiterConfig rxRateLimit, RateLimiterConfig txRateLimit) {
  public NetConfig {
    Objects.requireNonNull(tapName, "tapName");
    Objects.requireNonNull(mac, "mac");
    Objects.requireNonNull(rxRateLimit, "rxRateLimit");
    Objects.requireNonNull(txRateLimit, "txRateLimit");
  }
}
