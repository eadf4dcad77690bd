package dev.hearth.agent.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Frames a hostile client may send, read by the agent's side of a console WebSocket. */
class WebSocketTest {
  private final ByteArrayOutputStream sent = new ByteArrayOutputStream();

  private WebSocket from(byte[] wire) {
    return new WebSocket(new ByteArrayInputStream(wire), sent);
  }

  /** One final frame, masked with {@code mask} (null: unmasked). */
  private static byte[] frame(int opcode, byte[] payload, byte[] mask) {
    ByteArrayOutputStream f = new ByteArrayOutputStream();
    f.write(0x80 | opcode);
    int m = mask == null ? 0 : 0x80;
    if (payload.length < 126) {
      f.write(m | payload.length);
    } else {
      f.write(m | 126);
      f.write(payload.length >> 8);
      f.write(payload.length);
    }
    if (mask != null) {
      f.writeBytes(mask);
      for (int i = 0; i < payload.length; i++) {
        f.write(payload[i] ^ mask[i & 3]);
      }
    } else {
      f.writeBytes(payload);
    }
    return f.toByteArray();
  }

  private static final byte[] MASK = {1, 2, 3, 4};

  @Test
  void aMaskedFrameIsUnmaskedAndAPingIsAnsweredNotReturned() throws Exception {
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    wire.writeBytes(frame(WebSocket.PING, "hi".getBytes(StandardCharsets.UTF_8), MASK));
    wire.writeBytes(frame(WebSocket.BINARY, "ls -l\n".getBytes(StandardCharsets.UTF_8), MASK));
    WebSocket ws = from(wire.toByteArray());
    WebSocket.Frame f = ws.read();
    assertThat(f.opcode()).isEqualTo(WebSocket.BINARY);
    assertThat(new String(f.payload(), StandardCharsets.UTF_8)).isEqualTo("ls -l\n");
    assertThat(sent.toByteArray()).containsExactly(0x80 | WebSocket.PONG, 2, 'h', 'i');
  }

  @Test
  void anUnmaskedFrameIsAProtocolError() {
    WebSocket ws = from(frame(WebSocket.BINARY, new byte[] {1}, null));
    assertThatThrownBy(ws::read)
        .isInstanceOfSatisfying(
            HttpException.class, e -> assertThat(e.status()).isEqualTo(WebSocket.PROTOCOL_ERROR));
  }

  @Test
  void aFrameOverTheLimitIsRefusedBeforeItsPayloadIsRead() {
    // Only the header: a 2^62-byte length must not be allocated or waited for.
    byte[] huge = {(byte) 0x82, (byte) 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0};
    assertThatThrownBy(from(huge)::read)
        .isInstanceOfSatisfying(
            HttpException.class, e -> assertThat(e.status()).isEqualTo(WebSocket.TOO_BIG));
    byte[] justOver = frame(WebSocket.BINARY, new byte[WebSocket.MAX_PAYLOAD + 1], MASK);
    assertThatThrownBy(from(justOver)::read)
        .isInstanceOfSatisfying(
            HttpException.class, e -> assertThat(e.status()).isEqualTo(WebSocket.TOO_BIG));
  }

  @Test
  void aLongOrFragmentedControlFrameAndReservedBitsAreRefused() {
    byte[] longPing = frame(WebSocket.PING, new byte[126], MASK);
    assertThatThrownBy(from(longPing)::read).isInstanceOf(HttpException.class);
    byte[] fragmentedClose = frame(WebSocket.CLOSE, new byte[0], MASK);
    fragmentedClose[0] &= 0x7f;
    assertThatThrownBy(from(fragmentedClose)::read).isInstanceOf(HttpException.class);
    byte[] rsv = frame(WebSocket.BINARY, new byte[1], MASK);
    rsv[0] |= 0x40;
    assertThatThrownBy(from(rsv)::read).isInstanceOf(HttpException.class);
  }

  @Test
  void aTruncatedFrameEnds() {
    byte[] f = frame(WebSocket.BINARY, new byte[10], MASK);
    byte[] cut = java.util.Arrays.copyOf(f, f.length - 3);
    assertThatThrownBy(from(cut)::read).isInstanceOf(EOFException.class);
  }

  @Test
  void theHandshakeAnswerIsRfc6455s() {
    // The example of RFC 6455, section 1.3.
    assertThat(WebSocket.accept("dGhlIHNhbXBsZSBub25jZQ=="))
        .isEqualTo("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  }
}
