package dev.hearth.vmm.bench;

import dev.hearth.vmm.devices.virtio.net.TapBackend;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A tap for the net benchmark, in a network namespace of the benchmark's own so that nothing
 * reaches the host's interfaces: {@link #ensureOwnNetns} re-runs the JVM under {@code unshare
 * --net}, and the namespace, with the tap, goes away when the process ends. The tap has an address
 * and a static neighbour, so UDP datagrams sent to that neighbour leave the kernel through the tap
 * as frames of an exact size: that is how {@link #sendFrames} puts frames on the tap's read side.
 */
final class BenchTap implements AutoCloseable {
  static final String NAME = "hbench0";
  static final String HOST_IP = "10.77.0.1";
  static final String PEER_IP = "10.77.0.2";
  static final String PEER_MAC = "02:00:00:00:00:02";

  /** Ethernet + IPv4 + UDP headers in front of a datagram's payload. */
  static final int UDP_FRAME_OVERHEAD = 14 + 20 + 8;

  /** The largest MTU a tap takes (Linux's tun: 65535 minus its own headroom). */
  static final int MAX_MTU = 65521;

  /** The tap's kernel-side queue (its ring of frames waiting to be read), in frames. */
  static final int QUEUE_FRAMES = 4096;

  private static final String REEXEC_PROPERTY = "hearth.bench.netns";

  final TapBackend backend;
  private final DatagramChannel pump;
  private final InetSocketAddress peer = new InetSocketAddress(PEER_IP, 9);

  private BenchTap(TapBackend backend, DatagramChannel pump) {
    this.backend = backend;
    this.pump = pump;
  }

  /**
   * Returns normally when this JVM runs in a network namespace with no interface but {@code lo} (a
   * fresh one); otherwise runs this JVM again under {@code unshare --net} and exits with its
   * status.
   */
  static void ensureOwnNetns(Class<?> main, String[] args) throws Exception {
    if (interfaces().equals(List.of("lo"))) {
      return;
    }
    if (System.getProperty(REEXEC_PROPERTY) != null) {
      throw new IllegalStateException(
          "unshare --net gave a namespace with interfaces " + interfaces());
    }
    List<String> cmd = new ArrayList<>();
    cmd.add("unshare");
    cmd.add("--net");
    cmd.add(ProcessHandle.current().info().command().orElseThrow());
    cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.add("-D" + REEXEC_PROPERTY + "=1");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.addAll(List.of(args));
    System.exit(new ProcessBuilder(cmd).inheritIO().start().waitFor());
  }

  /**
   * Creates the tap (with the virtio-net flags the device uses), brings it up with the largest MTU,
   * an address and a static neighbour, and no IPv6 (whose own frames would mix with the
   * benchmark's).
   */
  static BenchTap open() throws Exception {
    for (String conf : new String[] {"all", "default"}) {
      Path p = Path.of("/proc/sys/net/ipv6/conf", conf, "disable_ipv6");
      if (Files.exists(p)) {
        Files.writeString(p, "1");
      }
    }
    TapBackend tap = TapBackend.open(NAME);
    try {
      ip("link", "set", NAME, "mtu", "" + MAX_MTU, "txqueuelen", "" + QUEUE_FRAMES, "up");
      ip("addr", "add", HOST_IP + "/24", "dev", NAME);
      ip("neigh", "replace", PEER_IP, "lladdr", PEER_MAC, "dev", NAME, "nud", "permanent");
      // No qdisc: a datagram reaches the tap's queue within its send call.
      run("tc", "qdisc", "replace", "dev", NAME, "root", "noqueue");
      return new BenchTap(tap, DatagramChannel.open(StandardProtocolFamily.INET));
    } catch (Exception e) {
      tap.close();
      throw e;
    }
  }

  /**
   * Sends {@code count} UDP datagrams to the peer, each leaving through the tap as one Ethernet
   * frame of {@code frameBytes} (at least 64, at most 14 + {@link #MAX_MTU}).
   */
  void sendFrames(int count, int frameBytes) throws IOException {
    ByteBuffer payload = ByteBuffer.allocateDirect(frameBytes - UDP_FRAME_OVERHEAD);
    for (int i = 0; i < count; i++) {
      pump.send(payload.clear(), peer);
    }
  }

  /** The interfaces of this process's network namespace (not sysfs's, which may be the host's). */
  private static List<String> interfaces() throws IOException {
    List<String> names = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/net/dev"))) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        names.add(line.substring(0, colon).strip());
      }
    }
    return names;
  }

  /** Frames the kernel dropped because the tap's queue was full (its {@code tx_drop}). */
  static long queueDrops() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/net/dev"))) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).strip().equals(NAME)) {
        // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets errs drop
        return Long.parseLong(line.substring(colon + 1).strip().split("\\s+")[11]);
      }
    }
    throw new IOException(NAME + " is not in /proc/self/net/dev");
  }

  @Override
  public void close() throws IOException {
    pump.close();
    backend.close();
  }

  private static void ip(String... args) throws Exception {
    String[] cmd = new String[args.length + 1];
    cmd[0] = "ip";
    System.arraycopy(args, 0, cmd, 1, args.length);
    run(cmd);
  }

  private static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + out.strip());
    }
  }
}
