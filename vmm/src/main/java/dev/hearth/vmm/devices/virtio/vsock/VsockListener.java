package dev.hearth.vmm.devices.virtio.vsock;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The device's own Unix socket, where host programs connect and send {@code CONNECT <port>\n}, and
 * those connections until their line is read; {@link #sendOk} answers once the guest accepts. Used
 * only under the device's lock.
 *
 * <p>The socket path is claimed with care, since another VM's socket may be there: a live socket
 * (something accepts, or its backlog is full) or a file that is not a socket is never replaced (the
 * device fails instead); only a stale socket nobody listens on is. On close the path is removed
 * only if it is still the socket this device bound (same file key).
 */
final class VsockListener {
  private static final int MAX_CONNECT_LINE = 32;
  private static final int S_IFMT = 0170000;
  private static final int S_IFSOCK = 0140000;

  private final Path path;
  private final ServerSocketChannel channel;
  private final Object fileKey;
  private final List<VsockConnection> awaiting = new ArrayList<>();

  VsockListener(Path path, Selector selector) throws IOException {
    this.path = path;
    claim(path);
    channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      channel.bind(UnixDomainSocketAddress.of(path));
      fileKey = attributes(path).fileKey();
      channel.configureBlocking(false);
      channel.register(selector, SelectionKey.OP_ACCEPT);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /** Removes a stale socket at {@code path}; refuses anything else that is there. */
  private static void claim(Path path) throws IOException {
    BasicFileAttributes a;
    try {
      a = attributes(path);
    } catch (NoSuchFileException e) {
      return;
    }
    int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    if ((mode & S_IFMT) != S_IFSOCK || !a.isOther()) {
      throw new IOException(path + " exists and is not a socket; refusing to replace it");
    }
    try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      probe.configureBlocking(false); // a full backlog answers EAGAIN instead of blocking
      probe.connect(UnixDomainSocketAddress.of(path));
    } catch (ConnectException refused) {
      Files.delete(path); // nobody listens: left by a VMM that is gone
      return;
    } catch (IOException busy) {
      throw new IOException(path + " is in use by a live listener (another VM?): " + busy, busy);
    }
    throw new IOException(path + " is in use by a live listener (another VM?)");
  }

  private static BasicFileAttributes attributes(Path path) throws IOException {
    return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
  }

  boolean owns(SelectionKey key) {
    return key.channel() == channel;
  }

  /** Host connections still sending their CONNECT line. */
  int awaiting() {
    return awaiting.size();
  }

  /**
   * Accepts waiting host connections, watching each for its CONNECT line; while {@code room} is 0
   * (no guest driver, or the device is full) they are closed at once.
   */
  void accept(Selector selector, int room) throws IOException {
    SocketChannel ch;
    while ((ch = channel.accept()) != null) {
      if (room-- <= 0) {
        ch.close();
        continue;
      }
      ch.configureBlocking(false);
      VsockConnection c = new VsockConnection(ch, VsockConnection.State.AWAIT_CONNECT_LINE);
      c.key = ch.register(selector, SelectionKey.OP_READ, c);
      awaiting.add(c);
    }
  }

  /**
   * Reads more of {@code c}'s CONNECT line: the port once the line is complete (bytes after it go
   * to {@code c.hostLeftover}, and {@code c} is no longer this listener's), or -1 while it is not
   * (or when it was malformed or the host left, and {@code c} was closed).
   */
  long readConnectLine(VsockConnection c) {
    ByteBuffer buf = ByteBuffer.allocate(MAX_CONNECT_LINE + 1);
    try {
      if (c.channel.read(buf) < 0) {
        return drop(c);
      }
    } catch (IOException e) {
      return drop(c);
    }
    byte[] got = Arrays.copyOf(buf.array(), buf.position());
    for (int i = 0; i < got.length; i++) {
      if (got[i] != '\n') {
        c.connectLine.append((char) (got[i] & 0xff));
        if (c.connectLine.length() > MAX_CONNECT_LINE) {
          return drop(c);
        }
        continue;
      }
      String line = c.connectLine.toString();
      try {
        if (!line.startsWith("CONNECT ")) {
          return drop(c);
        }
        long port = Integer.toUnsignedLong(Integer.parseUnsignedInt(line.substring(8).trim()));
        awaiting.remove(c);
        c.hostLeftover = Arrays.copyOfRange(got, i + 1, got.length);
        return port;
      } catch (NumberFormatException e) {
        return drop(c);
      }
    }
    return -1;
  }

  /**
   * The guest accepted host connection {@code c}: tells the host program {@code OK <port>\n} (the
   * host-side port of the stream), and watches the socket for data. False if the socket would not
   * take the whole line; the caller then resets the connection.
   */
  static boolean sendOk(VsockConnection c, Selector selector) throws IOException {
    ByteBuffer ok =
        ByteBuffer.wrap(
            ("OK " + Integer.toUnsignedString(c.localPort) + "\n")
                .getBytes(StandardCharsets.US_ASCII));
    c.channel.write(ok);
    if (ok.hasRemaining()) {
      return false;
    }
    c.hostReadable = c.hostLeftover.length > 0;
    c.key.interestOps(SelectionKey.OP_READ);
    selector.wakeup();
    return true;
  }

  private long drop(VsockConnection c) {
    awaiting.remove(c);
    c.close();
    return -1;
  }

  /** Closes the host connections still sending their line. */
  void clear() {
    awaiting.forEach(VsockConnection::close);
    awaiting.clear();
  }

  /** Closes the socket and removes its path if it is still ours. */
  void close() throws IOException {
    clear();
    channel.close();
    try {
      if (Objects.equals(attributes(path).fileKey(), fileKey)) {
        Files.delete(path);
      }
    } catch (NoSuchFileException gone) {
      // Someone removed it already.
    }
  }
}
