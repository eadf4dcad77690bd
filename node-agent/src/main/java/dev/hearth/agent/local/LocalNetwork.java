package dev.hearth.agent.local;

import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.ipam.Ipam;
import dev.hearth.agent.ipam.IpamException;
import dev.hearth.agent.net.Attachment;
import dev.hearth.agent.net.CommandRunner;
import dev.hearth.agent.net.HostCommands;
import dev.hearth.agent.net.IpBlock;
import dev.hearth.agent.net.NetworkException;
import dev.hearth.agent.net.NetworkNames;
import dev.hearth.agent.net.NodeNetwork;
import dev.hearth.agent.net.TapFactory;
import dev.hearth.agent.net.TunTapFactory;
import dev.hearth.agent.spec.VmPlan;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;

/**
 * {@code hearth run}'s guest network: the node agent's own {@link NodeNetwork} (a bridge holding
 * the subnet's gateway, a tap per interface, addresses from {@link Ipam}, NAT out and anti-spoofing
 * rules), under names no node agent and no other {@code hearth run} on the host uses.
 *
 * <p>Each run takes a <em>slot</em>: the first of {@value #SLOTS} lock files under the state root
 * that no live process holds (the kernel drops the lock when its holder dies). Slot {@code n} owns
 * bridge {@code hearth-run<n>} (unless {@code --bridge} names another), subnet {@code
 * 10.214.<n>.0/24} (unless {@code --subnet}), nftables tables {@code hearth-run<n>}, taps {@code
 * hr<n>-*} and the IPAM state in {@code <state root>/slot-<n>/}. A run that was killed leaves them
 * behind; the next run in its slot removes them first. {@link #close} removes everything.
 */
public final class LocalNetwork implements AutoCloseable {
  /** Where runs lock their slots and keep IPAM state: tmpfs, gone at reboot like the bridges. */
  public static final Path STATE_ROOT = Path.of("/run/hearth-run");

  /** How many runs with a network one host holds at once. */
  static final int SLOTS = 64;

  private static final String OWNER_FILE = "owner";

  /** The group of every VM of a run: they are one user's, as a namespace's VMs are. */
  private static final String RUN_GROUP = "hearth-run";

  private static final int CAP_NET_ADMIN = 12;

  /**
   * What the user asked for.
   *
   * @param bridge {@code --bridge}, else the slot's {@code hearth-run<n>}
   * @param subnet {@code --subnet}, else the slot's {@code 10.214.<n>.0/24}
   * @param stateRoot where slots are locked ({@link #STATE_ROOT})
   */
  public record Settings(Optional<String> bridge, Optional<Cidr> subnet, Path stateRoot) {}

  private final FileChannel lockFile;
  private final Path slotDir;
  private final NodeNetwork network;
  private final NetworkNames names;
  private final Cidr subnet;
  private final List<String> attached = new ArrayList<>();

  private LocalNetwork(
      FileChannel lockFile, Path slotDir, NodeNetwork network, NetworkNames names, Cidr subnet) {
    this.lockFile = lockFile;
    this.slotDir = slotDir;
    this.network = network;
    this.names = names;
    this.subnet = subnet;
  }

  /**
   * Takes a slot, removes what a killed run left in it, and sets up the bridge, forwarding and NAT.
   * Fails, having made nothing, without the privileges, when the bridge exists already, or when the
   * subnet overlaps a route of the host's.
   */
  public static LocalNetwork open(Settings settings, CommandRunner commands, TapFactory taps)
      throws HostUnavailableException {
    Slot slot = Slot.take(settings.stateRoot());
    boolean done = false;
    try {
      removeLeftovers(slot, commands, taps);
      NetworkNames names =
          new NetworkNames(
              settings.bridge().orElse("hearth-run" + slot.number()),
              "hearth-run" + slot.number(),
              "hr" + slot.number() + "-");
      Cidr subnet =
          settings.subnet().orElseGet(() -> Cidr.parse("10.214." + slot.number() + ".0/24"));
      checkFree(names.bridge(), subnet, commands, settings);
      writeOwner(slot.dir(), names, subnet);
      // The node agent's protection, private networks denied: a guest on a workstation reaches
      // the outside through NAT, not the workstation, its LAN or the metadata service.
      NodeNetwork network =
          new NodeNetwork(
              commands,
              taps,
              new Ipam(subnet, slot.dir().resolve("ipam")),
              names,
              IpBlock.PRIVATE_NETWORKS);
      LocalNetwork local = new LocalNetwork(slot.channel(), slot.dir(), network, names, subnet);
      try {
        network.setUp();
      } catch (RuntimeException e) {
        local.close();
        throw e;
      }
      done = true;
      return local;
    } catch (NetworkException | IpamException e) {
      throw new HostUnavailableException("network for spec.network: " + e.getMessage(), e);
    } finally {
      if (!done) {
        slot.release();
      }
    }
  }

  /**
   * Networks on this host, as {@code settings} ask: first checks that this process may make them
   * ({@link #whyNot}), then {@link #open}s one with the host's iproute2, nftables and TUN device.
   */
  public static LocalRunner.Networks onThisHost(Settings settings) {
    return () -> {
      Optional<String> why = whyNot(Path.of("/proc/self/status"), Path.of("/dev/net/tun"));
      if (why.isPresent()) {
        throw new HostUnavailableException(why.get());
      }
      return open(settings, HostCommands.host(), TunTapFactory.host());
    };
  }

  /**
   * Empty when this process may make taps and bridges, else one sentence with the fix: it needs
   * CAP_NET_ADMIN (root) and {@code tun}, the TUN/TAP device.
   */
  public static Optional<String> whyNot(Path procStatus, Path tunDevice) {
    if (!hasNetAdmin(procStatus)) {
      return Optional.of(
          "spec.network needs root (CAP_NET_ADMIN) for its tap, bridge and NAT: run hearth run as"
              + " root, or remove spec.network");
    }
    if (!Files.exists(tunDevice)) {
      return Optional.of(
          "spec.network needs "
              + tunDevice
              + ", which does not exist: load the tun module (modprobe tun), or remove"
              + " spec.network");
    }
    return Optional.empty();
  }

  /**
   * Wires the VM's interfaces: a tap on the bridge and an address each, under the node agent's
   * default policy opened as {@code policy} says (the VMs of one run are one group).
   */
  public List<Attachment> attach(
      String vmName, VmPlan.NetworkPolicyPlan policy, List<VmPlan.NicPlan> nics)
      throws HostUnavailableException {
    try {
      attached.add(vmName);
      return network.attach(
          vmName,
          policy.forGroup(RUN_GROUP),
          nics.stream().map(n -> new NodeNetwork.InterfaceRequest(n.name(), n.mac())).toList());
    } catch (NetworkException | IpamException e) {
      throw new HostUnavailableException("spec.network: " + e.getMessage(), e);
    }
  }

  public NetworkNames names() {
    return names;
  }

  public Cidr subnet() {
    return subnet;
  }

  /** Removes the taps, addresses, rules and bridge, then frees the slot. */
  @Override
  public void close() {
    RuntimeException failure = null;
    try {
      attached.forEach(network::detach);
      network.tearDown();
      deleteSlotDir(slotDir);
    } catch (RuntimeException e) {
      failure = e;
    } finally {
      Slot.close(lockFile);
    }
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * A killed run's taps, rules, bridge and addresses in this slot, as its owner file names them.
   */
  private static void removeLeftovers(Slot slot, CommandRunner commands, TapFactory taps) {
    Path owner = slot.dir().resolve(OWNER_FILE);
    if (!Files.exists(owner)) {
      return;
    }
    Properties p = new Properties();
    try (var in = Files.newInputStream(owner)) {
      p.load(in);
    } catch (IOException e) {
      throw new NetworkException("cannot read " + owner + ": " + e.getMessage(), e);
    }
    NetworkNames names;
    Cidr subnet;
    try {
      names =
          new NetworkNames(
              p.getProperty("bridge", ""), p.getProperty("table", ""), p.getProperty("taps", ""));
      subnet = Cidr.parse(p.getProperty("subnet", ""));
    } catch (NetworkException | IllegalArgumentException e) {
      throw new NetworkException(
          owner
              + " does not describe a killed run's network ("
              + e.getMessage()
              + "); remove what it names by hand, then "
              + slot.dir(),
          e);
    }
    NodeNetwork left =
        new NodeNetwork(
            commands,
            taps,
            new Ipam(subnet, slot.dir().resolve("ipam")),
            names,
            IpBlock.PRIVATE_NETWORKS);
    left.reconcile(Set.of());
    left.tearDown();
    deleteSlotDir(slot.dir());
  }

  private static void checkFree(
      String bridge, Cidr subnet, CommandRunner commands, Settings settings) {
    if (commands.run("ip", "-br", "link", "show").lines().anyMatch(l -> isLink(l, bridge))) {
      throw new NetworkException(
          "bridge "
              + bridge
              + " exists already (the host's, a node agent's or another hearth run's); pass"
              + " --bridge with a name no interface has");
    }
    for (String route : commands.run("ip", "-4", "route", "show").lines().toList()) {
      String[] f = route.strip().split("\\s+");
      String dest = f.length > 1 && f[0].matches("[a-z]+") ? f[1] : f[0];
      if (!dest.equals("default") && dest.matches("[0-9./]+") && subnet.overlaps(dest)) {
        throw new NetworkException(
            "subnet "
                + subnet
                + (settings.subnet().isPresent() ? "" : " (the default for this run)")
                + " overlaps this host's route '"
                + route.strip()
                + "'; pass --subnet with a free one");
      }
    }
  }

  private static boolean isLink(String line, String name) {
    String first = line.strip().split("\\s+")[0];
    int at = first.indexOf('@');
    return (at >= 0 ? first.substring(0, at) : first).equals(name);
  }

  private static void writeOwner(Path dir, NetworkNames names, Cidr subnet) {
    try {
      Files.createDirectories(dir);
      Files.writeString(
          dir.resolve(OWNER_FILE),
          "bridge="
              + names.bridge()
              + "\ntable="
              + names.table()
              + "\ntaps="
              + names.tapPrefix()
              + "\nsubnet="
              + subnet
              + "\n");
    } catch (IOException e) {
      throw new NetworkException("cannot write " + dir.resolve(OWNER_FILE) + ": " + e, e);
    }
  }

  private static void deleteSlotDir(Path dir) {
    try {
      Files.deleteIfExists(dir.resolve("ipam"));
      Files.deleteIfExists(dir.resolve(OWNER_FILE));
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      throw new NetworkException("cannot remove " + dir + ": " + e.getMessage(), e);
    }
  }

  private static boolean hasNetAdmin(Path procStatus) {
    try {
      for (String line : Files.readAllLines(procStatus)) {
        if (line.startsWith("CapEff:")) {
          long caps = Long.parseUnsignedLong(line.substring(7).strip(), 16);
          return (caps & (1L << CAP_NET_ADMIN)) != 0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // Unknown: say what is needed rather than fail later with a less clear message.
    }
    return false;
  }

  /** A locked slot: its number, its state folder and the lock's channel (closing it unlocks). */
  private record Slot(int number, Path dir, FileChannel channel) {
    static Slot take(Path root) throws HostUnavailableException {
      try {
        Files.createDirectories(root);
      } catch (IOException e) {
        throw new HostUnavailableException(
            "spec.network: cannot make " + root + " for the run's network state: " + e, e);
      }
      for (int n = 0; n < SLOTS; n++) {
        Path lock = root.resolve("slot-" + n + ".lock");
        FileChannel channel = null;
        try {
          channel = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock held = channel.tryLock();
          if (held != null) {
            return new Slot(n, root.resolve("slot-" + n), channel);
          }
        } catch (OverlappingFileLockException e) {
          // This JVM holds it already (a test running two networks).
        } catch (IOException e) {
          close(channel);
          throw new HostUnavailableException(
              "spec.network: cannot lock " + lock + ": " + e.getMessage(), e);
        }
        close(channel);
      }
      throw new HostUnavailableException(
          "spec.network: all "
              + SLOTS
              + " hearth run networks on this host are in use (locks in "
              + root
              + ")");
    }

    void release() {
      close(channel);
    }

    static void close(FileChannel channel) {
      if (channel == null) {
        return;
      }
      try {
        channel.close();
      } catch (IOException e) {
        // Closing drops the lock either way.
      }
    }
  }
}
