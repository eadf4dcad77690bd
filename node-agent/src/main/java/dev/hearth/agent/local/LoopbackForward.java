package dev.hearth.agent.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Inside the nested-KVM harness, {@code hearth run} sits in a machine of its own (L1), whose
 * loopback is not the host's: a registry the manifest names on {@code localhost:<port>} or {@code
 * 127.0.0.1:<port>} runs on the host. This forwards each such port of L1's loopback to the host,
 * which L1 reaches as {@code hostAddress} (QEMU's user network: 10.0.2.2), so references,
 * credentials and {@code --insecure-registry} stay as the user wrote them. {@code ./hearth} asks
 * for it (environment {@value #ENV}) only when it boots in the harness.
 */
final class LoopbackForward implements AutoCloseable {
  /** The host's address as L1 sees it; set by {@code ./hearth} in the harness only. */
  static final String ENV = "HEARTH_NESTED_HOST_ADDRESS";

  private final List<ServerSocket> listeners = new ArrayList<>();

  private LoopbackForward() {}

  /**
   * Forwards the loopback registries among {@code registries} (host[:port]) to {@code hostAddress};
   * none when it is null or blank.
   */
  static LoopbackForward start(List<String> registries, String hostAddress, PrintStream status)
      throws IOException {
    LoopbackForward f = new LoopbackForward();
    if (hostAddress == null || hostAddress.isBlank()) {
      return f;
    }
    for (String registry : registries) {
      int colon = registry.lastIndexOf(':');
      String host = (colon < 0 ? registry : registry.substring(0, colon)).toLowerCase(Locale.ROOT);
      if (colon < 0 || !(host.equals("localhost") || host.equals("127.0.0.1"))) {
        continue;
      }
      int port = Integer.parseInt(registry.substring(colon + 1));
      ServerSocket server = new ServerSocket();
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      f.listeners.add(server);
      InetSocketAddress target = new InetSocketAddress(hostAddress.strip(), port);
      status.printf(
          "hearth: registry %s is the host's: forwarded to %s:%d%n",
          registry, hostAddress.strip(), port);
      Thread.ofVirtual().name("hearth-forward-" + port).start(() -> accept(server, target));
    }
    return f;
  }

  private static void accept(ServerSocket server, InetSocketAddress target) {
    while (!server.isClosed()) {
      try {
        Socket in = server.accept();
        Socket out = new Socket();
        try {
          out.connect(target, 10_000);
        } catch (IOException e) {
          in.close();
          out.close();
          continue;
        }
        Thread.ofVirtual().start(() -> pump(in, out));
        Thread.ofVirtual().start(() -> pump(out, in));
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private static void pump(Socket from, Socket to) {
    try (InputStream i = from.getInputStream();
        OutputStream o = to.getOutputStream()) {
      i.transferTo(o);
    } catch (IOException e) {
      // the other side closed
    } finally {
      try {
        from.close();
        to.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }

  @Override
  public void close() {
    for (ServerSocket s : listeners) {
      try {
        s.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }
}
