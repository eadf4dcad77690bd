package dev.hearth.agent.image;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Optional;

/**
 * Which addresses an image URL may reach from the node. An image URL is tenant input, fetched from
 * the node's network: without a check it reaches the node itself (the agent, the kubelet), the
 * cloud's metadata service and the cluster's private networks.
 */
public enum Destinations {
  /** Public unicast addresses only: the default for an agent. */
  PUBLIC,
  /**
   * Public and private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), for clusters
   * whose image server is on a private network; never loopback, link-local or metadata.
   */
  PUBLIC_AND_PRIVATE,
  /** Anything, loopback included: for {@code hearth run} on one's own machine, and for tests. */
  ANY;

  /** Why {@code address} is refused, or empty when it may be reached. */
  public Optional<String> refusal(InetAddress address) {
    if (this == ANY) {
      return Optional.empty();
    }
    if (address.isLoopbackAddress()) {
      return Optional.of("loopback address");
    }
    if (address.isLinkLocalAddress()) {
      return Optional.of("link-local address"); // 169.254/16 (metadata), fe80::/10
    }
    if (address.isAnyLocalAddress()) {
      return Optional.of("unspecified address");
    }
    if (address.isMulticastAddress()) {
      return Optional.of("multicast address");
    }
    if (reserved(address)) {
      return Optional.of("reserved address");
    }
    if (this == PUBLIC && isPrivate(address)) {
      return Optional.of("private address (the agent's image-allow-private-networks is off)");
    }
    return Optional.empty();
  }

  private static boolean reserved(InetAddress a) {
    byte[] b = a.getAddress();
    if (a instanceof Inet4Address) {
      int first = b[0] & 0xff;
      return first == 0 || first >= 240; // "this network", and 240/4 with broadcast
    }
    if (a instanceof Inet6Address) {
      // ::/96 (IPv4-compatible) and 64:ff9b::/96 (NAT64) embed an IPv4 address: judged elsewhere.
      boolean zeros = true;
      for (int i = 0; i < 12; i++) {
        zeros &= b[i] == 0;
      }
      boolean nat64 = b[0] == 0 && b[1] == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b;
      return zeros || nat64 || (b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0xc0; // fec0::/10
    }
    return true;
  }

  private static boolean isPrivate(InetAddress a) {
    byte[] b = a.getAddress();
    if (a instanceof Inet4Address) {
      return a.isSiteLocalAddress() || ((b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64);
    }
    return (b[0] & 0xfe) == 0xfc; // fc00::/7
  }
}
