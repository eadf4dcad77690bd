package dev.hearth.vmm.loader;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a kernel command line from parts, rejecting what the kernel would misparse: non-ASCII or
 * control characters, an unbalanced quote, and a result too long for the boot protocol.
 */
public final class KernelCmdline {
  private final int capacity;
  private final List<String> parts = new ArrayList<>();
  private int length; // of the line so far: the parts and a space between each two

  /** A builder for lines of at most {@code capacity - 1} bytes (the last holds the NUL). */
  public KernelCmdline(int capacity) {
    if (capacity < 2) {
      throw new IllegalArgumentException("command line capacity " + capacity);
    }
    this.capacity = capacity;
  }

  /** Appends {@code text} (one or more space-separated parameters). Blank text is ignored. */
  public KernelCmdline append(String text) {
    String t = text.strip();
    if (t.isEmpty()) {
      return this;
    }
    int quotes = 0;
    for (int i = 0; i < t.length(); i++) {
      char c = t.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        throw new LoaderException(
            "kernel command line has a character the kernel cannot take (0x"
                + Integer.toHexString(c)
                + ") in: "
                + t);
      }
      if (c == '"') {
        quotes++;
      }
    }
    if (quotes % 2 != 0) {
      throw new LoaderException("kernel command line has an unbalanced quote in: " + t);
    }
    int grown = parts.isEmpty() ? t.length() : length + 1 + t.length();
    if (grown >= capacity) {
      throw new LoaderException(
          "kernel command line would be " + grown + " bytes, over the limit of " + (capacity - 1));
    }
    parts.add(t);
    length = grown;
    return this;
  }

  /** Appends {@code key=value}. */
  public KernelCmdline param(String key, String value) {
    return append(key + "=" + value);
  }

  /** The line so far. */
  @Override
  public String toString() {
    return String.join(" ", parts);
  }

  /** The line as ASCII bytes with a NUL terminator. */
  public byte[] toBytes() {
    byte[] text = toString().getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[text.length + 1];
    System.arraycopy(text, 0, out, 0, text.length);
    return out;
  }
}
