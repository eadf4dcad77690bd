package dev.hearth.vmm.testing;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The host side of a VM's vsock device (Firecracker's hybrid vsock): connect to its Unix socket,
 * write {@code CONNECT <port>}, read the device's {@code OK <hostport>}, then talk to the guest.
 */
public final class HybridVsockClient {
  private static final Duration LINE_LIMIT = Duration.ofSeconds(20);

  private HybridVsockClient() {}

  /**
   * Connects to guest port {@code port} through {@code socket}, sends {@code line} and returns the
   * device's answer to CONNECT and the guest's first line back.
   */
  public static Exchange exchange(Path socket, int port, String line) throws IOException {
    try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      ch.write(ByteBuffer.wrap(("CONNECT " + port + "\n").getBytes(StandardCharsets.US_ASCII)));
      ch.configureBlocking(false);
      try (Selector selector = Selector.open()) {
        ch.register(selector, SelectionKey.OP_READ);
        String connected = readLine(ch, selector);
        ch.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.US_ASCII)));
        return new Exchange(connected, readLine(ch, selector));
      }
    }
  }

  /** The device's answer to CONNECT ({@code OK <port>}) and the guest's reply. */
  public record Exchange(String connected, String reply) {}

  /**
   * Reads one line (without its newline) from {@code ch} within 20 s, switching it to non-blocking
   * mode; at end of stream, what came so far.
   *
   * @throws IOException on a read error, or when no whole line came in time (with what did)
   */
  public static String readLine(SocketChannel ch) throws IOException {
    ch.configureBlocking(false);
    try (Selector selector = Selector.open()) {
      ch.register(selector, SelectionKey.OP_READ);
      return readLine(ch, selector);
    }
  }

  private static String readLine(SocketChannel ch, Selector selector) throws IOException {
    StringBuilder line = new StringBuilder();
    ByteBuffer one = ByteBuffer.allocate(1);
    long deadline = System.nanoTime() + LINE_LIMIT.toNanos();
    while (true) {
      one.clear();
      int n = ch.read(one);
      if (n < 0) {
        return line.toString();
      }
      if (n == 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IOException(
              "no line over vsock within " + LINE_LIMIT.toSeconds() + " s (got '" + line + "')");
        }
        selector.select(Math.max(1, left / 1_000_000));
        selector.selectedKeys().clear();
        continue;
      }
      char c = (char) one.get(0);
      if (c == '\n') {
        return line.toString();
      }
      line.append(c);
    }
  }
}
