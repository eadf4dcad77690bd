package dev.hearth.vmm.ratelimit;

import java.util.Locale;

/**
 * Which rate limiter of a VM: a drive's or the entropy device's one limiter, or a network
 * interface's receive or transmit limiter. Shown as {@code <device>} or {@code <nic>.rx}/{@code
 * <nic>.tx} (in messages and metric labels); never parsed back.
 *
 * @param device the device id from the VM's config
 * @param traffic what the limiter meters
 */
public record LimiterId(String device, Traffic traffic) implements Comparable<LimiterId> {
  /** What a limiter meters. */
  public enum Traffic {
    /** Everything the device does (a drive, the rng). */
    ALL,
    /** Frames to the guest. */
    RX,
    /** Frames from the guest. */
    TX
  }

  public LimiterId {
    if (device == null || traffic == null) {
      throw new IllegalArgumentException("a limiter id needs a device and its traffic");
    }
  }

  /** The one limiter of a drive or of the rng. */
  public static LimiterId of(String device) {
    return new LimiterId(device, Traffic.ALL);
  }

  /** A network interface's receive limiter. */
  public static LimiterId rx(String nic) {
    return new LimiterId(nic, Traffic.RX);
  }

  /** A network interface's transmit limiter. */
  public static LimiterId tx(String nic) {
    return new LimiterId(nic, Traffic.TX);
  }

  @Override
  public int compareTo(LimiterId o) {
    int c = device.compareTo(o.device);
    return c != 0 ? c : traffic.compareTo(o.traffic);
  }

  @Override
  public String toString() {
    return traffic == Traffic.ALL ? device : device + "." + traffic.name().toLowerCase(Locale.ROOT);
  }
}
