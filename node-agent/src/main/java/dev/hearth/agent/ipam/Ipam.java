package dev.hearth.agent.ipam;

import dev.hearth.agent.state.AtomicFiles;
import java.io.IOException;
import java.net.Inet4Address;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Hands out guest addresses from the node subnet and persists them, so an agent restart keeps every
 * VM's address. An owner is an opaque key (the agent uses {@code <vm uid>/<interface>}); asking
 * again for the same owner returns the same address. Addresses are handed out round-robin from a
 * persisted cursor so a freed address is not reused at once (stale ARP entries, connections).
 */
public final class Ipam {
  private static final String HEADER = "# hearth ipam v1";

  private final Cidr subnet;
  private final Path stateFile;
  private final Map<String, Integer> byOwner = new HashMap<>();
  private final Map<Integer, String> byAddress = new HashMap<>();
  private int cursor;

  /**
   * Loads the state file if present. Allocations outside {@code subnet} (the subnet was changed)
   * are dropped; their owners get new addresses on their next {@link #allocate}.
   */
  public Ipam(Cidr subnet, Path stateFile) {
    this.subnet = subnet;
    this.stateFile = stateFile;
    this.cursor = subnet.firstGuest();
    load();
  }

  public Cidr subnet() {
    return subnet;
  }

  public Inet4Address gateway() {
    return Cidr.toInet(subnet.gateway());
  }

  /** The owner's address, allocating and persisting one if it has none. */
  public synchronized Inet4Address allocate(String owner) {
    checkOwner(owner);
    Integer existing = byOwner.get(owner);
    if (existing != null) {
      return Cidr.toInet(existing);
    }
    int capacity = subnet.guestCapacity();
    if (byAddress.size() >= capacity) {
      throw new IpamException(
          "subnet " + subnet + " is exhausted: all " + capacity + " guest addresses are in use");
    }
    int candidate = cursor;
    while (byAddress.containsKey(candidate)) {
      candidate = next(candidate);
    }
    int previousCursor = cursor;
    byOwner.put(owner, candidate);
    byAddress.put(candidate, owner);
    cursor = next(candidate);
    try {
      persist();
    } catch (IpamException e) {
      // Never hand out an address that a restart would forget.
      byOwner.remove(owner);
      byAddress.remove(candidate);
      cursor = previousCursor;
      throw e;
    }
    return Cidr.toInet(candidate);
  }

  /** Frees the owner's address; a no-op for an owner that holds none. */
  public synchronized void release(String owner) {
    Integer address = byOwner.remove(owner);
    if (address != null) {
      byAddress.remove(address);
      persist();
    }
  }

  /**
   * Frees every address whose owner is not in {@code liveOwners} (after a crash, or VMs deleted
   * while the agent was down) and returns the freed owners.
   */
  public synchronized Set<String> reconcile(Set<String> liveOwners) {
    Set<String> freed = new java.util.TreeSet<>();
    for (String owner : List.copyOf(byOwner.keySet())) {
      if (!liveOwners.contains(owner)) {
        byAddress.remove(byOwner.remove(owner));
        freed.add(owner);
      }
    }
    if (!freed.isEmpty()) {
      persist();
    }
    return freed;
  }

  /** A snapshot of owner to address. */
  public synchronized Map<String, Inet4Address> allocations() {
    Map<String, Inet4Address> out = new LinkedHashMap<>();
    new TreeMap<>(byOwner).forEach((o, a) -> out.put(o, Cidr.toInet(a)));
    return Collections.unmodifiableMap(out);
  }

  private int next(int address) {
    return address >= subnet.lastGuest() ? subnet.firstGuest() : address + 1;
  }

  private static void checkOwner(String owner) {
    if (owner.isEmpty() || owner.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException("IPAM owner '" + owner + "' is empty or has whitespace");
    }
  }

  private void load() {
    if (!Files.exists(stateFile)) {
      return;
    }
    List<String> lines;
    try {
      lines = Files.readAllLines(stateFile);
    } catch (IOException e) {
      throw new IpamException("cannot read IPAM state " + stateFile + ": " + e.getMessage(), e);
    }
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\\s+");
      if (f.length != 2) {
        throw new IpamException(stateFile + ":" + (i + 1) + ": malformed line '" + line + "'");
      }
      int address;
      try {
        address = Cidr.parseAddress(f[1], line);
      } catch (IllegalArgumentException e) {
        throw new IpamException(stateFile + ":" + (i + 1) + ": " + e.getMessage(), e);
      }
      if (f[0].equals("next")) {
        if (address >= subnet.firstGuest() && address <= subnet.lastGuest()) {
          cursor = address;
        }
      } else if (address >= subnet.firstGuest() && address <= subnet.lastGuest()) {
        byOwner.put(f[0], address);
        byAddress.put(address, f[0]);
      }
    }
  }

  private void persist() {
    StringBuilder out = new StringBuilder(HEADER).append(" subnet=").append(subnet).append('\n');
    out.append("next ").append(Cidr.format(cursor)).append('\n');
    new TreeMap<>(byOwner)
        .forEach((o, a) -> out.append(o).append(' ').append(Cidr.format(a)).append('\n'));
    try {
      AtomicFiles.writeString(stateFile, out.toString());
    } catch (IOException e) {
      throw new IpamException("cannot write IPAM state " + stateFile + ": " + e.getMessage(), e);
    }
  }
}
