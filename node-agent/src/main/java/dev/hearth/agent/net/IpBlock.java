package dev.hearth.agent.net;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An IPv4 network of any prefix length ({@code 0.0.0.0/0} to {@code a.b.c.d/32}), as nftables
 * writes it. Unlike {@link dev.hearth.agent.ipam.Cidr}, which is a guest subnet, it only names
 * destinations. Parsing is strict, since the text comes from tenants and ends up in nftables rules.
 */
public record IpBlock(int network, int prefixLength) {
  private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
  private static final Pattern FORM =
      Pattern.compile(
          OCTET + "\\." + OCTET + "\\." + OCTET + "\\." + OCTET + "/([0-9]|[12][0-9]|3[0-2])");

  /** Link-local addresses, cloud metadata ({@code 169.254.169.254}) among them. */
  public static final IpBlock LINK_LOCAL = parse("169.254.0.0/16");

  /**
   * The private networks a cluster's pods, Services and nodes live in (RFC 1918 and the shared
   * address space of RFC 6598): what a guest may not reach by default.
   */
  public static final List<IpBlock> PRIVATE_NETWORKS =
      List.of(
          parse("10.0.0.0/8"),
          parse("172.16.0.0/12"),
          parse("192.168.0.0/16"),
          parse("100.64.0.0/10"));

  public IpBlock {
    if (prefixLength < 0 || prefixLength > 32) {
      throw new IllegalArgumentException("prefix length /" + prefixLength + " is outside /0../32");
    }
    if ((network & ~mask(prefixLength)) != 0) {
      throw new IllegalArgumentException(
          format(network) + "/" + prefixLength + " has host bits set after the prefix");
    }
  }

  /** Parses {@code a.b.c.d/n} with its host bits zero; anything else is refused. */
  public static IpBlock parse(String text) {
    Matcher m = FORM.matcher(text);
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + text + "' is not an IPv4 network a.b.c.d/n");
    }
    int address = 0;
    for (int i = 1; i <= 4; i++) {
      address = (address << 8) | Integer.parseInt(m.group(i));
    }
    return new IpBlock(address, Integer.parseInt(m.group(5)));
  }

  /** Whether the two networks share an address. */
  public boolean overlaps(IpBlock other) {
    int shorter = Math.min(prefixLength, other.prefixLength);
    return (network & mask(shorter)) == (other.network & mask(shorter));
  }

  private static int mask(int prefixLength) {
    return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
  }

  private static String format(int a) {
    return (a >>> 24) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff);
  }

  @Override
  public String toString() {
    return format(network) + "/" + prefixLength;
  }
}
