package dev.hearth.vmm.vm;

import dev.hearth.vmm.sys.Errno;
import dev.hearth.vmm.sys.LibC;
import dev.hearth.vmm.sys.Tun;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * A persistent tap that a test creates and removes, with a raw packet socket on its host side: what
 * the guest sends comes out of {@link #receive}, and {@link #send} hands a frame to the guest. Only
 * frames of one ethertype are seen, so the host's own chatter (IPv6) stays out. Needs root.
 */
final class HostTap implements AutoCloseable {
  private static final int AF_PACKET = 17;
  private static final int SOCK_RAW = 3;
  private static final int SOCK_NONBLOCK = 0x800;
  private static final int SOCK_CLOEXEC = 0x80000;
  private static final long SIOCGIFFLAGS = 0x8913;
  private static final long SIOCSIFFLAGS = 0x8914;
  private static final long SIOCSIFADDR = 0x8916;
  private static final long SIOCSIFNETMASK = 0x891c;
  private static final int AF_INET = 2;
  private static final int SOCK_DGRAM = 2;
  private static final short IFF_UP = 1;
  private static final short TAP_FLAGS = (short) (Tun.IFF_TAP | Tun.IFF_NO_PI | Tun.IFF_VNET_HDR);

  private final String name;
  private final int ethertype;
  private final int socket;

  private HostTap(String name, int ethertype, int socket) {
    this.name = name;
    this.ethertype = ethertype;
    this.socket = socket;
  }

  /** Creates the persistent tap {@code name}, brings it up, and binds a packet socket to it. */
  static HostTap create(String name, int ethertype) throws IOException {
    int fd = Tun.open(name, TAP_FLAGS, 0);
    try {
      Tun.setPersist(fd, true);
    } finally {
      LibC.close(fd);
    }
    try {
      Path ipv6 = Path.of("/proc/sys/net/ipv6/conf", name, "disable_ipv6");
      if (Files.exists(ipv6)) {
        Files.writeString(ipv6, "1\n");
      }
      int proto = Short.toUnsignedInt(Short.reverseBytes((short) ethertype));
      int sock = LibC.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
      HostTap tap = new HostTap(name, ethertype, sock);
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment ifr = arena.allocate(40);
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(n, 0, ifr, ValueLayout.JAVA_BYTE, 0, n.length);
        LibC.ioctl(sock, SIOCGIFFLAGS, ifr, "SIOCGIFFLAGS " + name);
        short flags = ifr.get(ValueLayout.JAVA_SHORT, 16);
        ifr.set(ValueLayout.JAVA_SHORT, 16, (short) (flags | IFF_UP));
        LibC.ioctl(sock, SIOCSIFFLAGS, ifr, "SIOCSIFFLAGS " + name);

        int ifindex =
            Integer.parseInt(Files.readString(Path.of("/sys/class/net", name, "ifindex")).trim());
        MemorySegment sll = arena.allocate(20);
        sll.set(ValueLayout.JAVA_SHORT, 0, (short) AF_PACKET);
        sll.set(ValueLayout.JAVA_SHORT, 2, (short) proto);
        sll.set(ValueLayout.JAVA_INT, 4, ifindex);
        LibC.bind(sock, sll);
      } catch (RuntimeException | IOException e) {
        tap.close();
        throw e;
      }
      return tap;
    } catch (RuntimeException | IOException e) {
      delete(name);
      throw e;
    }
  }

  String name() {
    return name;
  }

  /**
   * Gives the tap's host side an IPv4 address and netmask (the host kernel then routes that subnet
   * to the tap and answers the guest's ARP and ICMP itself).
   */
  void assignIpv4(Inet4Address address, Inet4Address netmask) {
    int sock = LibC.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment ifr = arena.allocate(40);
      byte[] n = name.getBytes(StandardCharsets.US_ASCII);
      MemorySegment.copy(n, 0, ifr, ValueLayout.JAVA_BYTE, 0, n.length);
      // struct sockaddr_in at ifr_addr (offset 16): family, port 0, address in network order.
      ifr.set(ValueLayout.JAVA_SHORT, 16, (short) AF_INET);
      MemorySegment.copy(address.getAddress(), 0, ifr, ValueLayout.JAVA_BYTE, 20, 4);
      LibC.ioctl(sock, SIOCSIFADDR, ifr, "SIOCSIFADDR " + name + " " + address.getHostAddress());
      MemorySegment.copy(netmask.getAddress(), 0, ifr, ValueLayout.JAVA_BYTE, 20, 4);
      LibC.ioctl(sock, SIOCSIFNETMASK, ifr, "SIOCSIFNETMASK " + name);
    } finally {
      LibC.close(sock);
    }
  }

  /** The next frame of this tap's ethertype that the guest sent, within {@code timeout}. */
  Optional<byte[]> receive(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(65536);
      while (System.nanoTime() < deadline) {
        long n = LibC.read(socket, buf);
        if (n > 0) {
          byte[] frame = buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
          if (n >= 14 && (((frame[12] & 0xff) << 8) | (frame[13] & 0xff)) == ethertype) {
            return Optional.of(frame);
          }
        } else if (n != -Errno.EAGAIN) {
          return Optional.empty();
        }
        Thread.sleep(2);
      }
    }
    return Optional.empty();
  }

  /** Sends {@code frame} (an Ethernet frame, no vnet header) towards the guest. */
  void send(byte[] frame) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(frame.length);
      MemorySegment.copy(frame, 0, buf, ValueLayout.JAVA_BYTE, 0, frame.length);
      long n = LibC.write(socket, buf);
      if (n != frame.length) {
        throw new IllegalStateException("packet socket on " + name + " took " + n + " bytes");
      }
    }
  }

  /** Closes the socket and removes the tap; the VM must have closed its fd first. */
  @Override
  public void close() {
    LibC.close(socket);
    delete(name);
  }

  /** Whether a network interface {@code name} exists. */
  static boolean exists(String name) {
    return Files.exists(Path.of("/sys/class/net", name));
  }

  private static void delete(String name) {
    int fd = Tun.open(name, TAP_FLAGS, 0);
    try {
      Tun.setPersist(fd, false);
    } finally {
      LibC.close(fd);
    }
  }
}
