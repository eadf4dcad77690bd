package dev.hearth.agent.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The host's registry seen from L1: 127.0.0.2 plays the host, 127.0.0.1 L1's own loopback. */
class LoopbackForwardTest {
  @Test
  void aLoopbackRegistryPortReachesTheHost() throws Exception {
    try (ServerSocket host = new ServerSocket()) {
      host.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
      int port = host.getLocalPort();
      Thread.ofVirtual()
          .start(
              () -> {
                try (Socket s = host.accept()) {
                  String line =
                      new String(s.getInputStream().readNBytes(5), StandardCharsets.UTF_8);
                  s.getOutputStream().write(("echo " + line).getBytes(StandardCharsets.UTF_8));
                } catch (Exception e) {
                  // the test fails on the read below
                }
              });
      ByteArrayOutputStream said = new ByteArrayOutputStream();
      try (LoopbackForward _ =
          LoopbackForward.start(
              List.of("localhost:" + port, "docker.io", "registry.example.org:5000"),
              "127.0.0.2",
              new PrintStream(said, true, StandardCharsets.UTF_8))) {
        try (Socket c = new Socket(InetAddress.getLoopbackAddress(), port)) {
          c.getOutputStream().write("hello".getBytes(StandardCharsets.UTF_8));
          assertThat(new String(c.getInputStream().readNBytes(10), StandardCharsets.UTF_8))
              .isEqualTo("echo hello");
        }
      }
      assertThat(said.toString(StandardCharsets.UTF_8))
          .contains("registry localhost:" + port + " is the host's")
          .doesNotContain("example.org");
    }
  }

  @Test
  void withoutAHostAddressNothingIsForwarded() throws Exception {
    ByteArrayOutputStream said = new ByteArrayOutputStream();
    try (LoopbackForward _ =
        LoopbackForward.start(
            List.of("localhost:1"), null, new PrintStream(said, true, StandardCharsets.UTF_8))) {
      assertThat(said.size()).isZero();
    }
  }
}
