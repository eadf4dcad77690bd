package dev.hearth.vmm.vm;

import dev.hearth.vmm.sys.Errno;
import dev.hearth.vmm.sys.LibC;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.Inet4Address;
import java.time.Duration;
import java.util.Optional;

/**
 * ICMP echo from the host over a raw socket (needs root): proves that an address answers at the IP
 * layer, which {@code InetAddress.isReachable} does not promise (it falls back to TCP).
 */
@SuppressWarnings("restricted") // raw sockets, which LibC does not offer
final class IcmpEcho {
  private static final int AF_INET = 2;
  private static final int SOCK_RAW = 3;
  private static final int SOCK_NONBLOCK = 0x800;
  private static final int SOCK_CLOEXEC = 0x80000;
  private static final int IPPROTO_ICMP = 1;
  private static final int ECHO_REQUEST = 8;
  private static final int ECHO_REPLY = 0;
  private static final MethodHandle SENDTO =
      Linker.nativeLinker()
          .downcallHandle(
              Linker.nativeLinker().defaultLookup().find("sendto").orElseThrow(),
              FunctionDescriptor.of(
                  ValueLayout.JAVA_LONG,
                  ValueLayout.JAVA_INT,
                  ValueLayout.ADDRESS,
                  ValueLayout.JAVA_LONG,
                  ValueLayout.JAVA_INT,
                  ValueLayout.ADDRESS,
                  ValueLayout.JAVA_INT));

  private IcmpEcho() {}

  /**
   * Sends up to {@code tries} echo requests to {@code target}, waiting {@code each} for a reply to
   * each; returns the round trip of the first reply, or empty when none came.
   */
  static Optional<Duration> ping(Inet4Address target, int tries, Duration each)
      throws InterruptedException {
    int sock = LibC.socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
    int id = (int) (ProcessHandle.current().pid() & 0xffff);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment to = arena.allocate(16);
      to.set(ValueLayout.JAVA_SHORT, 0, (short) AF_INET);
      MemorySegment.copy(target.getAddress(), 0, to, ValueLayout.JAVA_BYTE, 4, 4);
      MemorySegment buf = arena.allocate(1500);
      for (int seq = 1; seq <= tries; seq++) {
        byte[] request = request(id, seq);
        MemorySegment out = arena.allocateFrom(ValueLayout.JAVA_BYTE, request);
        long sent = System.nanoTime();
        long n = (long) SENDTO.invokeExact(sock, out, (long) request.length, 0, to, 16);
        if (n != request.length) {
          throw new IllegalStateException("sendto ICMP echo to " + target + " returned " + n);
        }
        long deadline = sent + each.toNanos();
        while (System.nanoTime() < deadline) {
          long got = LibC.read(sock, buf);
          if (got > 0
              && isReply(buf.asSlice(0, got).toArray(ValueLayout.JAVA_BYTE), target, id, seq)) {
            return Optional.of(Duration.ofNanos(System.nanoTime() - sent));
          }
          if (got == -Errno.EAGAIN) {
            Thread.sleep(2);
          }
        }
      }
    } catch (RuntimeException | InterruptedException e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    } finally {
      LibC.close(sock);
    }
    return Optional.empty();
  }

  private static byte[] request(int id, int seq) {
    byte[] p = new byte[64];
    p[0] = ECHO_REQUEST;
    p[4] = (byte) (id >> 8);
    p[5] = (byte) id;
    p[6] = (byte) (seq >> 8);
    p[7] = (byte) seq;
    byte[] text = "hearth-host-ping".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    System.arraycopy(text, 0, p, 8, text.length);
    int sum = checksum(p);
    p[2] = (byte) (sum >> 8);
    p[3] = (byte) sum;
    return p;
  }

  /** An IPv4 packet (header included, as raw sockets deliver it) with our echo reply inside. */
  private static boolean isReply(byte[] ip, Inet4Address from, int id, int seq) {
    if (ip.length < 20 || (ip[0] >> 4) != 4) {
      return false;
    }
    int ihl = (ip[0] & 0x0f) * 4;
    byte[] src = from.getAddress();
    for (int i = 0; i < 4; i++) {
      if (ip[12 + i] != src[i]) {
        return false;
      }
    }
    return ip.length >= ihl + 8
        && ip[ihl] == ECHO_REPLY
        && ((ip[ihl + 4] & 0xff) << 8 | (ip[ihl + 5] & 0xff)) == id
        && ((ip[ihl + 6] & 0xff) << 8 | (ip[ihl + 7] & 0xff)) == seq;
  }

  private static int checksum(byte[] data) {
    long sum = 0;
    for (int i = 0; i + 1 < data.length; i += 2) {
      sum += ((data[i] & 0xff) << 8) | (data[i + 1] & 0xff);
    }
    if ((data.length & 1) != 0) {
      sum += (data[data.length - 1] & 0xff) << 8;
    }
    while ((sum >> 16) != 0) {
      sum = (sum & 0xffff) + (sum >> 16);
    }
    return (int) (~sum & 0xffff);
  }
}
