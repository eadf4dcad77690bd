package dev.hearth.agent.net;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Tap names and MACs derived from the interface's owner key ({@code <vm uid>/<interface>}), so the
 * agent finds its taps again after a crash and tells its own (prefix {@value #TAP_PREFIX}) from
 * everyone else's.
 */
public final class InterfaceNames {
  /** Every tap Hearth creates starts with this; nothing else on the node may use it. */
  public static final String TAP_PREFIX = "hth";

  /** The longest tap prefix: with the 10 hex digits it fits IFNAMSIZ (15). */
  public static final int MAX_PREFIX = 5;

  private InterfaceNames() {}

  /** The agent's tap: {@code hth} + 10 hex digits, 13 characters, inside IFNAMSIZ (15). */
  public static String tapName(String owner) {
    return tapName(TAP_PREFIX, owner);
  }

  /** {@code prefix} (at most {@value #MAX_PREFIX} characters) + 10 hex digits. */
  public static String tapName(String prefix, String owner) {
    return prefix + HexFormat.of().formatHex(hash(owner), 0, 5);
  }

  /** A locally administered unicast MAC ({@code 02:...}). */
  public static String mac(String owner) {
    byte[] h = hash(owner);
    StringBuilder out = new StringBuilder("02");
    for (int i = 0; i < 5; i++) {
      out.append(':').append(HexFormat.of().toHexDigits(h[5 + i]));
    }
    return out.toString();
  }

  private static byte[] hash(String owner) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(owner.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JDK has SHA-256", e);
    }
  }
}
