package dev.hearth.vmm.memory;

/**
 * A guest-physical address, as an unsigned 64-bit value. Guest-supplied addresses are hostile:
 * arithmetic on them is checked for unsigned overflow.
 *
 * @param raw the address bits, read as unsigned
 */
public record GuestAddress(long raw) implements Comparable<GuestAddress> {

  /** The address {@code raw}. */
  public static GuestAddress of(long raw) {
    return new GuestAddress(raw);
  }

  /**
   * This address plus {@code offset} bytes.
   *
   * @throws GuestMemoryException if the sum wraps past 2^64, or {@code offset} is negative
   */
  public GuestAddress plus(long offset) {
    if (offset < 0) {
      throw new GuestMemoryException("negative offset " + offset + " from " + this);
    }
    long sum = raw + offset;
    if (Long.compareUnsigned(sum, raw) < 0) {
      throw new GuestMemoryException("address overflow: " + this + " + " + offset);
    }
    return new GuestAddress(sum);
  }

  /** Unsigned distance from {@code base} up to this address; negative when this is below it. */
  public long minus(GuestAddress base) {
    return raw - base.raw;
  }

  @Override
  public int compareTo(GuestAddress other) {
    return Long.compareUnsigned(raw, other.raw);
  }

  @Override
  public String toString() {
    return "0x" + Long.toUnsignedString(raw, 16);
  }
}
