package dev.hearth.agent.ipam;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * An IPv4 subnet such as {@code 10.200.0.0/16}. The first host address is the gateway (the bridge's
 * address); guests get the addresses after it, up to the one before broadcast.
 */
public record Cidr(int network, int prefixLength) {

  public Cidr {
    if (prefixLength < 8 || prefixLength > 30) {
      throw new IllegalArgumentException(
          "subnet prefix /"
              + prefixLength
              + " is outside /8../30: it must hold a gateway and guests");
    }
    if ((network & ~mask(prefixLength)) != 0) {
      throw new IllegalArgumentException(
          format(network)
              + "/"
              + prefixLength
              + " has host bits set; use "
              + format(network & mask(prefixLength))
              + "/"
              + prefixLength);
    }
  }

  /** Parses {@code a.b.c.d/n}; rejects anything else with the offending text in the message. */
  public static Cidr parse(String text) {
    String[] parts = text.trim().split("/", -1);
    if (parts.length != 2) {
      throw new IllegalArgumentException("subnet '" + text + "' is not of the form a.b.c.d/n");
    }
    int prefix;
    try {
      prefix = Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("subnet '" + text + "' has no numeric prefix length");
    }
    return new Cidr(parseAddress(parts[0], text), prefix);
  }

  static int parseAddress(String dotted, String context) {
    String[] octets = dotted.split("\\.", -1);
    if (octets.length != 4) {
      throw new IllegalArgumentException("'" + context + "' does not hold an IPv4 address");
    }
    int value = 0;
    for (String o : octets) {
      int b;
      try {
        b = Integer.parseInt(o);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("'" + context + "' does not hold an IPv4 address");
      }
      if (b < 0 || b > 255 || o.isEmpty() || o.length() > 3) {
        throw new IllegalArgumentException("'" + context + "' does not hold an IPv4 address");
      }
      value = (value << 8) | b;
    }
    return value;
  }

  static int mask(int prefixLength) {
    return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
  }

  public int netmask() {
    return mask(prefixLength);
  }

  public int broadcast() {
    return network | ~netmask();
  }

  /** The bridge's address: the first host address. */
  public int gateway() {
    return network + 1;
  }

  /** The first address handed to a guest. */
  public int firstGuest() {
    return network + 2;
  }

  /** The last address handed to a guest (the one before broadcast). */
  public int lastGuest() {
    return broadcast() - 1;
  }

  public int guestCapacity() {
    return lastGuest() - firstGuest() + 1;
  }

  public boolean contains(int address) {
    return (address & netmask()) == network;
  }

  /**
   * Whether this subnet shares an address with {@code other}: an address ({@code a.b.c.d}) or a
   * prefix of any length ({@code a.b.c.d/n}), as {@code ip route} prints them.
   */
  public boolean overlaps(String other) {
    String[] parts = other.trim().split("/", -1);
    int length;
    try {
      length = parts.length == 1 ? 32 : Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + other + "' has no numeric prefix length");
    }
    if (parts.length > 2 || length < 0 || length > 32) {
      throw new IllegalArgumentException("'" + other + "' is not of the form a.b.c.d[/n]");
    }
    int shorter = mask(Math.min(length, prefixLength));
    return (parseAddress(parts[0], other) & shorter) == (network & shorter);
  }

  public static String format(int address) {
    return ((address >>> 24) & 0xff)
        + "."
        + ((address >>> 16) & 0xff)
        + "."
        + ((address >>> 8) & 0xff)
        + "."
        + (address & 0xff);
  }

  public static Inet4Address toInet(int address) {
    try {
      return (Inet4Address)
          InetAddress.getByAddress(
              new byte[] {
                (byte) (address >>> 24),
                (byte) (address >>> 16),
                (byte) (address >>> 8),
                (byte) address
              });
    } catch (UnknownHostException e) {
      throw new AssertionError("four bytes are always an address", e);
    }
  }

  @Override
  public String toString() {
    return format(network) + "/" + prefixLength;
  }
}
