package dev.hearth.operator.network;

/**
 * An IPv4 network such as {@code 10.213.0.0/16}: the cluster range and the node subnets cut from
 * it. (The agent has its own guest-subnet type; the operator does not depend on the agent.)
 *
 * @param address the network address, host bits zero, as an unsigned 32-bit value in an int
 * @param prefix the prefix length, 0 to 32
 */
public record Ipv4Block(int address, int prefix) {
  public Ipv4Block {
    if (prefix < 0 || prefix > 32) {
      throw new NetworkException("prefix /" + prefix + " is not from /0 to /32");
    }
    if ((address & ~mask(prefix)) != 0) {
      throw new NetworkException(
          format(address) + "/" + prefix + " has bits set after the prefix: not a network address");
    }
  }

  /** Parses {@code a.b.c.d/n} strictly: four decimal octets, a prefix, no host bits. */
  public static Ipv4Block parse(String text) {
    int slash = text == null ? -1 : text.indexOf('/');
    if (slash < 0) {
      throw new NetworkException("'" + text + "' is not an IPv4 network of the form a.b.c.d/n");
    }
    String prefix = text.substring(slash + 1);
    if (!prefix.matches("[0-9]{1,2}")) {
      throw new NetworkException("'" + text + "' has no prefix length of 0 to 32");
    }
    return new Ipv4Block(parseAddress(text.substring(0, slash)), Integer.parseInt(prefix));
  }

  /** Parses a dotted-quad address; throws {@link NetworkException} for anything else. */
  public static int parseAddress(String text) {
    String[] octets = text.split("\\.", -1);
    if (octets.length != 4) {
      throw new NetworkException("'" + text + "' is not an IPv4 address a.b.c.d");
    }
    int address = 0;
    for (String octet : octets) {
      if (!octet.matches("[0-9]{1,3}") || Integer.parseInt(octet) > 255) {
        throw new NetworkException("'" + text + "' has an octet that is not 0 to 255");
      }
      address = (address << 8) | Integer.parseInt(octet);
    }
    return address;
  }

  public static String format(int address) {
    return (address >>> 24)
        + "."
        + ((address >>> 16) & 255)
        + "."
        + ((address >>> 8) & 255)
        + "."
        + (address & 255);
  }

  private static int mask(int prefix) {
    return prefix == 0 ? 0 : -1 << (32 - prefix);
  }

  /** Whether the address lies in this network. */
  public boolean contains(int ip) {
    return (ip & mask(prefix)) == address;
  }

  /** Whether the two networks share an address. */
  public boolean overlaps(Ipv4Block other) {
    int shorter = Math.min(prefix, other.prefix);
    return (address & mask(shorter)) == (other.address & mask(shorter));
  }

  /** How many blocks of {@code /size} this network holds. */
  public long count(int size) {
    return 1L << (size - prefix);
  }

  /** The {@code index}-th block of {@code /size} in this network. */
  public Ipv4Block block(int size, long index) {
    return new Ipv4Block(address + (int) (index << (32 - size)), size);
  }

  /** Which block of {@code /size} holds {@code ip}, which this network contains. */
  public long indexOf(int ip, int size) {
    return Integer.toUnsignedLong(ip - address) >>> (32 - size);
  }

  @Override
  public String toString() {
    return format(address) + "/" + prefix;
  }
}
