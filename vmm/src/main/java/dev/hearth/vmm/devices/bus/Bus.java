package dev.hearth.vmm.devices.bus;

import java.lang.System.Logger.Level;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Dispatches guest accesses to the device whose range holds them. Ranges never overlap. An access
 * that hits no device, or runs past the end of the one it starts in, reads as all ones and is
 * otherwise ignored; the first such access per address is logged at debug level, and only the
 * first. Guests probe absent hardware as a matter of course (Linux's legacy ports, a test guest's
 * exit port), so at the default level this costs a VM nothing.
 *
 * <p>Lookups come from vCPU threads concurrently; registration publishes a new immutable map.
 */
public class Bus {
  private static final System.Logger LOG = System.getLogger(Bus.class.getName());
  private static final int MAX_LOGGED_ADDRESSES = 1024;

  private record Range(long base, long length, BusDevice device, String name) {
    long end() {
      return base + length;
    }
  }

  private final String kind;
  private volatile TreeMap<Long, Range> ranges = new TreeMap<>();
  private final Set<Long> logged = ConcurrentHashMap.newKeySet();

  /** A bus of {@code kind} ("PIO", "MMIO"), used in messages. */
  public Bus(String kind) {
    this.kind = kind;
  }

  /**
   * Puts {@code device} at {@code [base, base + length)}.
   *
   * @throws BusException if the range is empty, wraps, or overlaps another device's
   */
  public synchronized void register(long base, long length, BusDevice device, String name) {
    if (length <= 0 || base + length < base) {
      throw new BusException(
          kind + " range for " + name + " at 0x" + Long.toHexString(base) + " is invalid");
    }
    TreeMap<Long, Range> next = new TreeMap<>(ranges);
    Map.Entry<Long, Range> below = next.floorEntry(base + length - 1);
    if (below != null && below.getValue().end() > base) {
      throw new BusException(
          kind
              + " range for "
              + name
              + " at 0x"
              + Long.toHexString(base)
              + " overlaps "
              + below.getValue().name()
              + " at 0x"
              + Long.toHexString(below.getKey()));
    }
    next.put(base, new Range(base, length, device, name));
    ranges = next;
  }

  /** Removes the device registered at {@code base}; returns whether there was one. */
  public synchronized boolean unregister(long base) {
    TreeMap<Long, Range> next = new TreeMap<>(ranges);
    boolean removed = next.remove(base) != null;
    ranges = next;
    return removed;
  }

  /** The guest reads {@code data.length} bytes at {@code address}; returns whether a device did. */
  public boolean read(long address, byte[] data) {
    Range r = find(address, data.length);
    if (r == null) {
      Arrays.fill(data, (byte) 0xff);
      logUnmapped("read", address, data.length);
      return false;
    }
    r.device().read(address - r.base(), data);
    return true;
  }

  /** The guest writes {@code data} at {@code address}; returns whether a device took it. */
  public boolean write(long address, byte[] data) {
    Range r = find(address, data.length);
    if (r == null) {
      logUnmapped("write", address, data.length);
      return false;
    }
    r.device().write(address - r.base(), data);
    return true;
  }

  private Range find(long address, int length) {
    Map.Entry<Long, Range> e = ranges.floorEntry(address);
    if (e == null) {
      return null;
    }
    Range r = e.getValue();
    // Unsigned compare guards against a hostile address near 2^64.
    long offset = address - r.base();
    return Long.compareUnsigned(offset, r.length()) < 0 && length <= r.length() - offset ? r : null;
  }

  private void logUnmapped(String what, long address, int length) {
    if (LOG.isLoggable(Level.DEBUG)
        && logged.size() < MAX_LOGGED_ADDRESSES
        && logged.add(address)) {
      LOG.log(
          Level.DEBUG,
          "guest {0} of {1} bytes at {2} 0x{3} hits no device (logged once per address)",
          what,
          length,
          kind,
          Long.toHexString(address));
    }
  }
}
