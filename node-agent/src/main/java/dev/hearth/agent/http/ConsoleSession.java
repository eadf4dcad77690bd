package dev.hearth.agent.http;

import dev.hearth.agent.console.ConsoleBuffer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * One console connection. Read-only over plain HTTP ({@link #stream}: what the buffer holds, then
 * new output until the VM is removed); interactive over a WebSocket ({@link #interactive}): output
 * as binary frames, and every data frame the client sends goes to the guest's serial port.
 *
 * <p>Input is bounded end to end: a frame holds at most {@link WebSocket#MAX_PAYLOAD} bytes, and
 * the next frame is not read until the guest's 64-byte UART FIFO has taken the last one, so a guest
 * that does not read slows its typist (TCP backpressure) instead of growing a queue here. What the
 * guest has not taken within {@link #INPUT_WAIT} is dropped, and the client is told.
 */
final class ConsoleSession {
  static final Duration INPUT_WAIT = Duration.ofSeconds(5);
  private static final Duration FOLLOW_POLL = Duration.ofSeconds(5);
  private static final int MAX_OUTPUT_FRAME = 16 * 1024;

  private ConsoleSession() {}

  /** Writes the buffer's tail and, with {@code follow}, its new output until the VM goes. */
  static void stream(ConsoleBuffer buffer, boolean follow, OutputStream out)
      throws IOException, InterruptedException {
    ConsoleBuffer.Chunk chunk = buffer.tail();
    while (true) {
      if (chunk.dropped() > 0) {
        out.write(ConsoleBuffer.droppedNotice(chunk.dropped()));
      }
      out.write(chunk.data());
      out.flush();
      if (!follow || chunk.closed()) {
        return;
      }
      chunk = buffer.awaitFrom(chunk.next(), FOLLOW_POLL);
    }
  }

  /**
   * Runs a WebSocket session until either side closes or the VM is removed: this thread reads
   * input, a virtual thread sends output. {@code hangUp} closes the connection (which ends a read
   * blocked here), once output has said that the VM is gone.
   */
  static void interactive(ConsoleBuffer buffer, InputStream in, OutputStream out, Runnable hangUp)
      throws IOException {
    WebSocket ws = new WebSocket(in, out);
    Thread output =
        Thread.ofVirtual().name("hearth-console-out").start(() -> pumpOutput(buffer, ws, hangUp));
    try {
      while (true) {
        WebSocket.Frame f;
        try {
          f = ws.read();
        } catch (HttpException e) {
          ws.close(e.status(), e.getMessage());
          return;
        }
        if (f.opcode() == WebSocket.CLOSE) {
          ws.close(WebSocket.NORMAL, "");
          return;
        }
        int took = buffer.writeInput(f.payload(), INPUT_WAIT);
        if (took < f.payload().length) {
          ws.write(
              WebSocket.BINARY,
              ("\r\n[hearth: the guest did not take "
                      + (f.payload().length - took)
                      + " input bytes: it is not running or not reading its console]\r\n")
                  .getBytes(StandardCharsets.UTF_8));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      output.interrupt();
    }
  }

  private static void pumpOutput(ConsoleBuffer buffer, WebSocket ws, Runnable hangUp) {
    try {
      ConsoleBuffer.Chunk chunk = buffer.tail();
      while (true) {
        if (chunk.dropped() > 0) {
          ws.write(WebSocket.BINARY, ConsoleBuffer.droppedNotice(chunk.dropped()));
        }
        byte[] data = chunk.data();
        for (int off = 0; off < data.length; off += MAX_OUTPUT_FRAME) {
          int n = Math.min(MAX_OUTPUT_FRAME, data.length - off);
          ws.write(WebSocket.BINARY, java.util.Arrays.copyOfRange(data, off, off + n));
        }
        if (chunk.closed()) {
          ws.close(WebSocket.GOING_AWAY, "the VM was removed from this node");
          hangUp.run();
          return;
        }
        chunk = buffer.awaitFrom(chunk.next(), FOLLOW_POLL);
      }
    } catch (InterruptedException e) {
      // The session ended from the client's side.
    } catch (IOException e) {
      // The client went away.
    }
  }
}
