package dev.hearth.vmm.devices.virtio.net;

import java.util.HexFormat;

/**
 * An Ethernet MAC address, in its 48 low bits.
 *
 * @param bits the address, first octet in bits 47..40
 */
public record MacAddress(long bits) {
  public MacAddress {
    if ((bits >>> 48) != 0) {
      throw new IllegalArgumentException(
          "MAC address wider than 48 bits: 0x" + Long.toHexString(bits));
    }
  }

  /** Parses {@code aa:bb:cc:dd:ee:ff}. */
  public static MacAddress parse(String text) {
    String[] parts = text.split(":");
    if (parts.length != 6) {
      throw new IllegalArgumentException("not a MAC address: '" + text + "'");
    }
    long v = 0;
    for (String p : parts) {
      if (p.length() != 2) {
        throw new IllegalArgumentException("not a MAC address: '" + text + "'");
      }
      v = v << 8 | HexFormat.fromHexDigits(p);
    }
    return new MacAddress(v);
  }

  /** The six octets, in wire order. */
  public byte[] octets() {
    byte[] b = new byte[6];
    for (int i = 0; i < 6; i++) {
      b[i] = (byte) (bits >>> (40 - 8 * i));
    }
    return b;
  }

  @Override
  public String toString() {
    byte[] b = octets();
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 6; i++) {
      if (i > 0) {
        sb.append(':');
      }
      sb.append(HexFormat.of().toHexDigits(b[i]));
    }
    return sb.toString();
  }
}
