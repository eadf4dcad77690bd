package dev.hearth.agent.http;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * The server side of an RFC 6455 WebSocket after its handshake: frames read from a client (which
 * must mask them) and frames written to it. Payloads are bounded: a frame over {@link #MAX_PAYLOAD}
 * closes the connection. Fragments are delivered as they come (the console is a byte stream, so
 * message boundaries carry no meaning). Writes are serialized; reads belong to one thread.
 */
final class WebSocket {
  /** The largest frame payload a client may send. */
  static final int MAX_PAYLOAD = 16 * 1024;

  static final int CONTINUATION = 0x0;
  static final int TEXT = 0x1;
  static final int BINARY = 0x2;
  static final int CLOSE = 0x8;
  static final int PING = 0x9;
  static final int PONG = 0xa;

  /** Close codes (RFC 6455 section 7.4.1). */
  static final int NORMAL = 1000;

  static final int GOING_AWAY = 1001;
  static final int PROTOCOL_ERROR = 1002;
  static final int TOO_BIG = 1009;

  private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

  /** One data or control frame from the client, unmasked. */
  record Frame(int opcode, byte[] payload) {}

  private final InputStream in;
  private final OutputStream out;
  private boolean closeSent;

  WebSocket(InputStream in, OutputStream out) {
    this.in = in;
    this.out = out;
  }

  /** The {@code Sec-WebSocket-Accept} value answering a client's {@code Sec-WebSocket-Key}. */
  static String accept(String key) {
    try {
      byte[] sha1 =
          MessageDigest.getInstance("SHA-1")
              .digest((key + GUID).getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(sha1);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-1", e);
    }
  }

  /**
   * The next frame. Pings are answered here and not returned.
   *
   * @throws HttpException for a frame the protocol forbids (unmasked, oversized, reserved bits),
   *     whose status is the WebSocket close code to answer with
   */
  Frame read() throws IOException, HttpException {
    while (true) {
      int b0 = next();
      int b1 = next();
      int opcode = b0 & 0x0f;
      if ((b0 & 0x70) != 0) {
        throw new HttpException(PROTOCOL_ERROR, "reserved bits set");
      }
      if ((b1 & 0x80) == 0) {
        throw new HttpException(PROTOCOL_ERROR, "client frames must be masked");
      }
      long len = b1 & 0x7f;
      if (len == 126) {
        len = (next() << 8) | next();
      } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++) {
          len = (len << 8) | next();
        }
      }
      boolean control = (opcode & 0x8) != 0;
      if (control && (len > 125 || (b0 & 0x80) == 0)) {
        throw new HttpException(PROTOCOL_ERROR, "control frames are short and unfragmented");
      }
      if (len < 0 || len > MAX_PAYLOAD) {
        throw new HttpException(TOO_BIG, "frames are limited to " + MAX_PAYLOAD + " bytes");
      }
      byte[] mask = in.readNBytes(4);
      byte[] payload = in.readNBytes((int) len);
      if (mask.length < 4 || payload.length < len) {
        throw new EOFException("the connection ended inside a frame");
      }
      for (int i = 0; i < payload.length; i++) {
        payload[i] ^= mask[i & 3];
      }
      switch (opcode) {
        case PING -> write(PONG, payload);
        case PONG -> {} // unsolicited pongs are allowed and ignored
        case CONTINUATION, TEXT, BINARY, CLOSE -> {
          return new Frame(opcode, payload);
        }
        default -> throw new HttpException(PROTOCOL_ERROR, "unknown opcode " + opcode);
      }
    }
  }

  /** Writes one final, unmasked frame. */
  synchronized void write(int opcode, byte[] payload) throws IOException {
    int n = payload.length;
    byte[] head;
    if (n < 126) {
      head = new byte[] {(byte) (0x80 | opcode), (byte) n};
    } else if (n < 0x10000) {
      head = new byte[] {(byte) (0x80 | opcode), 126, (byte) (n >> 8), (byte) n};
    } else {
      head = new byte[10];
      head[0] = (byte) (0x80 | opcode);
      head[1] = 127;
      for (int i = 0; i < 8; i++) {
        head[9 - i] = (byte) ((long) n >>> (8 * i));
      }
    }
    out.write(head);
    out.write(payload);
    out.flush();
  }

  /** Sends a close frame with {@code code} and a short reason; errors are ignored. */
  synchronized void close(int code, String reason) {
    if (closeSent) {
      return;
    }
    closeSent = true;
    byte[] r = reason.getBytes(StandardCharsets.UTF_8);
    byte[] p = new byte[2 + Math.min(r.length, 120)];
    p[0] = (byte) (code >> 8);
    p[1] = (byte) code;
    System.arraycopy(r, 0, p, 2, p.length - 2);
    try {
      write(CLOSE, p);
    } catch (IOException e) {
      // The peer is gone already.
    }
  }

  private int next() throws IOException {
    int b = in.read();
    if (b < 0) {
      throw new EOFException("the connection ended inside a frame");
    }
    return b;
  }
}
