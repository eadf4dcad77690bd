package dev.hearth.vmm.vm;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Hand-made Ethernet frames carrying IPv4 TCP segments, and the segments parsed back out of frames,
 * for tests that play a TCP peer by hand (a retransmission the host's own stack would never send on
 * cue). No options, no fragments.
 */
final class TcpSegments {
  static final int FIN = 0x01;
  static final int SYN = 0x02;
  static final int RST = 0x04;
  static final int PSH = 0x08;
  static final int ACK = 0x10;

  /** One end of the exchange: its MAC, IPv4 address (as an int) and TCP port. */
  record End(byte[] mac, int ip, int port) {}

  /** A TCP segment as seen on the wire. */
  record Segment(int srcPort, int dstPort, long seq, long ack, int flags, byte[] payload) {
    boolean has(int flag) {
      return (flags & flag) == flag;
    }
  }

  private TcpSegments() {}

  /** The frame carrying {@code segment} from {@code from} to {@code to}. */
  static byte[] frame(End from, End to, long seq, long ack, int flags, byte[] payload) {
    int tcpLen = 20 + payload.length;
    ByteBuffer b = ByteBuffer.allocate(Math.max(60, 14 + 20 + tcpLen));
    b.put(to.mac()).put(from.mac()).putShort((short) 0x0800);
    int ip = b.position();
    b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + tcpLen)).putInt(0);
    b.put((byte) 64).put((byte) 6).putShort((short) 0).putInt(from.ip()).putInt(to.ip());
    b.putShort(ip + 10, checksum(b.array(), ip, 20, 0));
    int tcp = b.position();
    b.putShort((short) from.port()).putShort((short) to.port());
    b.putInt((int) seq).putInt((int) ack);
    b.put((byte) 0x50).put((byte) flags).putShort((short) 65535).putInt(0);
    b.put(payload);
    long pseudo =
        (from.ip() >>> 16)
            + (from.ip() & 0xffff)
            + (to.ip() >>> 16)
            + (to.ip() & 0xffff)
            + 6
            + tcpLen;
    b.putShort(tcp + 16, checksum(b.array(), tcp, tcpLen, pseudo));
    return b.array();
  }

  /** The TCP segment in {@code frame}, or null when it carries none. */
  static Segment parse(byte[] frame) {
    ByteBuffer b = ByteBuffer.wrap(frame);
    if (frame.length < 14 + 20 + 20 || b.getShort(12) != 0x0800 || frame[14 + 9] != 6) {
      return null;
    }
    int ihl = (frame[14] & 15) * 4;
    int total = Short.toUnsignedInt(b.getShort(16));
    int tcp = 14 + ihl;
    int dataOffset = ((frame[tcp + 12] & 0xff) >> 4) * 4;
    if (14 + total > frame.length || tcp + dataOffset > 14 + total) {
      return null;
    }
    return new Segment(
        Short.toUnsignedInt(b.getShort(tcp)),
        Short.toUnsignedInt(b.getShort(tcp + 2)),
        Integer.toUnsignedLong(b.getInt(tcp + 4)),
        Integer.toUnsignedLong(b.getInt(tcp + 8)),
        frame[tcp + 13] & 0xff,
        Arrays.copyOfRange(frame, tcp + dataOffset, 14 + total));
  }

  private static short checksum(byte[] data, int offset, int length, long initial) {
    long sum = initial;
    for (int i = 0; i + 1 < length; i += 2) {
      sum += ((data[offset + i] & 0xff) << 8) | (data[offset + i + 1] & 0xff);
    }
    if ((length & 1) != 0) {
      sum += (data[offset + length - 1] & 0xff) << 8;
    }
    while ((sum >> 16) != 0) {
      sum = (sum & 0xffff) + (sum >> 16);
    }
    return (short) ~sum;
  }
}
