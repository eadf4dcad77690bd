package dev.hearth.vmm.devices.virtio.vsock;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Host programs for vsock fuzzing, all non-blocking and driven one random step at a time: listeners
 * on {@code <uds>_0..3} that accept guest connections, and peers that read, write, half-close or
 * close them, or connect to the device with a CONNECT line (sometimes a broken one).
 */
final class HostPeers implements AutoCloseable {
  static final int PORTS = 4;
  private final Path uds;
  private final Random r;
  private final List<ServerSocketChannel> listeners = new ArrayList<>();
  private final List<SocketChannel> peers = new ArrayList<>();
  private final ByteBuffer sink = ByteBuffer.allocate(1 << 16);
  private final ByteBuffer junk = ByteBuffer.allocate(4096);

  /** Guest bytes the host programs read: streams did carry data. */
  long bytesRead;

  HostPeers(Path uds, Random r) throws IOException {
    this.uds = uds;
    this.r = r;
    for (int p = 0; p < PORTS; p++) {
      ServerSocketChannel l = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      l.bind(UnixDomainSocketAddress.of(uds + "_" + p), 2000);
      l.configureBlocking(false);
      listeners.add(l);
    }
    r.nextBytes(junk.array());
  }

  /** One random host action. */
  void step() {
    try {
      switch (r.nextInt(10)) {
        case 0, 1 -> accept();
        case 2 -> {
          if (peers.size() < 64) {
            SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(uds));
            c.configureBlocking(false);
            String line = r.nextInt(8) == 0 ? "CONNECT x\n" : "CONNECT " + r.nextInt(PORTS) + "\n";
            c.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII)));
            peers.add(c);
          }
        }
        default -> {
          if (peers.isEmpty()) {
            return;
          }
          SocketChannel c = peers.get(r.nextInt(peers.size()));
          switch (r.nextInt(8)) {
            case 0 -> {
              c.close();
              peers.remove(c);
            }
            case 1 -> c.shutdownOutput();
            case 2, 3 -> c.write(junk.clear().limit(r.nextInt(junk.capacity())));
            default -> {
              int n = c.read(sink.clear());
              if (n < 0) {
                c.close();
                peers.remove(c);
              } else {
                bytesRead += n;
              }
            }
          }
        }
      }
    } catch (IOException e) {
      // A peer the device reset: part of the game.
    }
  }

  private void accept() throws IOException {
    for (ServerSocketChannel l : listeners) {
      SocketChannel c;
      while ((c = l.accept()) != null) {
        c.configureBlocking(false);
        peers.add(c);
      }
    }
  }

  @Override
  public void close() throws IOException {
    for (SocketChannel c : peers) {
      c.close();
    }
    for (ServerSocketChannel l : listeners) {
      l.close();
    }
  }
}
