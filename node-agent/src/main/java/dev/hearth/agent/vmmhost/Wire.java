package dev.hearth.agent.vmmhost;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The frames between the agent and a VMM process: a 4-byte body length, a 1-byte {@link Op}, the
 * body. Integers are big-endian; a string or byte array is a 4-byte length and its bytes (UTF-8 for
 * strings). Every length is checked against what is left of the frame, and a frame against {@link
 * #MAX_BODY}, before anything is allocated.
 */
final class Wire {
  /** The largest body either side sends: console chunks and launches are far smaller. */
  static final int MAX_BODY = 1 << 20;

  /** The protocol version both sides must speak; the child says it in {@link Op#HELLO}. */
  static final int VERSION = 1;

  private Wire() {}

  /** What a frame asks or tells. Codes are fixed: they are the protocol. */
  enum Op {
    // agent -> VMM process
    START(1),
    RESTORE(2),
    STOP(3),
    PAUSE(4),
    RESUME(5),
    SUSPEND(6),
    LIMITS(7),
    CONSOLE_IN(8),
    // VMM process -> agent
    HELLO(64),
    REPLY(65),
    BOOTED(66),
    CONSOLE(67),
    METER(68),
    EXIT(69);

    final byte code;

    Op(int code) {
      this.code = (byte) code;
    }

    static Op of(byte code) throws VmmHostException {
      for (Op op : values()) {
        if (op.code == code) {
          return op;
        }
      }
      throw new VmmHostException("unknown frame type " + code);
    }
  }

  /** One frame as read. */
  record Frame(Op op, In body) {}

  /** Writes one frame; callers serialize writers of the same stream. */
  static void write(OutputStream out, Op op, Out body) throws IOException {
    byte[] b = body.bytes();
    if (b.length > MAX_BODY) {
      throw new VmmHostException(op + " frame of " + b.length + " bytes is over " + MAX_BODY);
    }
    DataOutputStream d = new DataOutputStream(out);
    d.writeInt(b.length);
    d.writeByte(op.code);
    d.write(b);
    d.flush();
  }

  /** Reads the next frame, or returns null at the end of the stream between frames. */
  static Frame read(InputStream in) throws IOException {
    DataInputStream d = new DataInputStream(in);
    int length;
    try {
      length = d.readInt();
    } catch (EOFException e) {
      return null;
    }
    if (length < 0 || length > MAX_BODY) {
      throw new VmmHostException("frame length " + length + " is outside 0.." + MAX_BODY);
    }
    Op op = Op.of(d.readByte());
    byte[] body = new byte[length];
    d.readFully(body);
    return new Frame(op, new In(body));
  }

  /** A frame body being written. */
  static final class Out {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final DataOutputStream data = new DataOutputStream(bytes);

    Out i32(int v) {
      try {
        data.writeInt(v);
      } catch (IOException e) {
        throw new UncheckedIOException(e); // never: the stream is in memory
      }
      return this;
    }

    Out i64(long v) {
      try {
        data.writeLong(v);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return this;
    }

    Out bool(boolean v) {
      return i32(v ? 1 : 0);
    }

    Out bytes(byte[] b, int off, int len) {
      i32(len);
      bytes.write(b, off, len);
      return this;
    }

    Out str(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      return bytes(b, 0, b.length);
    }

    byte[] bytes() {
      return bytes.toByteArray();
    }
  }

  /** A frame body being read; every read is bounded by what the frame holds. */
  static final class In {
    private final DataInputStream data;
    private int left;

    In(byte[] body) {
      this.data = new DataInputStream(new ByteArrayInputStream(body));
      this.left = body.length;
    }

    private void need(int n, String what) throws VmmHostException {
      if (n < 0 || n > left) {
        throw new VmmHostException(
            what + " of " + n + " bytes runs past the frame (" + left + " left)");
      }
      left -= n;
    }

    int i32() throws IOException {
      need(4, "an int");
      return data.readInt();
    }

    long i64() throws IOException {
      need(8, "a long");
      return data.readLong();
    }

    boolean bool() throws IOException {
      return i32() != 0;
    }

    byte[] bytes() throws IOException {
      int n = i32();
      need(n, "a byte string");
      byte[] b = new byte[n];
      data.readFully(b);
      return b;
    }

    String str() throws IOException {
      return new String(bytes(), StandardCharsets.UTF_8);
    }

    /** A count of items that follow, each at least {@code minBytes} long, at most {@code max}. */
    int count(int max, int minBytes, String what) throws IOException {
      int n = i32();
      if (n < 0 || n > max || (long) n * minBytes > left) {
        throw new VmmHostException(what + ": " + n + " items is outside 0.." + max);
      }
      return n;
    }
  }
}
