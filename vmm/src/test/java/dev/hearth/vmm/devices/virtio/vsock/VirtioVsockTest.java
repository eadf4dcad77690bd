package dev.hearth.vmm.devices.virtio.vsock;

import static dev.hearth.vmm.devices.virtio.vsock.VsockHeader.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.devices.virtio.DeviceHarness;
import dev.hearth.vmm.devices.virtio.vsock.VsockGuest.Packet;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VirtioVsockTest {
  @TempDir Path dir;
  private Path uds;
  private VirtioVsock vsock;
  private DeviceHarness h;
  private VsockGuest guest;

  @BeforeEach
  void start() throws IOException {
    uds = dir.resolve("v.sock");
    vsock = new VirtioVsock(new VsockConfig(VsockGuest.CID, uds));
    h = new DeviceHarness(vsock, 64).start();
    guest = new VsockGuest(h);
    guest.postRx(16);
  }

  @AfterEach
  void stop() throws IOException {
    vsock.close();
    h.close();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static String readSome(SocketChannel ch, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (ch.read(b) < 0) {
        break;
      }
    }
    return new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII);
  }

  @Test
  void configHoldsTheGuestCid() {
    assertThat(h.mmio.config(0, 8)).containsExactly(3, 0, 0, 0, 0, 0, 0, 0);
  }

  @Test
  void guestConnectsToUdsUnderscorePortAndBytesFlowBothWays() throws IOException {
    try (ServerSocketChannel host = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      host.bind(UnixDomainSocketAddress.of(uds + "_5000"));
      guest.send(OP_REQUEST, 1234, 5000, new byte[0]);
      List<Packet> got = guest.received();
      assertThat(got).hasSize(1);
      assertThat(got.get(0).header().op()).isEqualTo(OP_RESPONSE);
      assertThat(got.get(0).header().srcPort()).isEqualTo(5000);
      assertThat(got.get(0).header().dstPort()).isEqualTo(1234);
      try (SocketChannel conn = host.accept()) {
        guest.send(OP_RW, 1234, 5000, bytes("hello"));
        assertThat(readSome(conn, 5)).isEqualTo("hello");
        conn.write(ByteBuffer.wrap(bytes("world")));
        vsock.pollHost(2000);
        got = guest.received();
        assertThat(got).hasSize(1);
        assertThat(got.get(0).header().op()).isEqualTo(OP_RW);
        assertThat(new String(got.get(0).data(), StandardCharsets.US_ASCII)).isEqualTo("world");
        assertThat(got.get(0).header().bufAlloc()).isEqualTo(VsockConnection.BUF_ALLOC);
        assertThat(got.get(0).header().fwdCnt()).isEqualTo(5);
        guest.send(OP_SHUTDOWN, 1234, 5000, new byte[0], SHUTDOWN_RCV | SHUTDOWN_SEND, 65536, 5);
        assertThat(guest.received()).extracting(p -> p.header().op()).containsExactly(OP_RST);
        assertThat(conn.read(ByteBuffer.allocate(1))).isEqualTo(-1);
      }
    }
  }

  @Test
  void guestConnectToNothingGetsReset() {
    guest.send(OP_REQUEST, 1234, 6000, new byte[0]);
    assertThat(guest.received()).extracting(p -> p.header().op()).containsExactly(OP_RST);
  }

  @Test
  void hostConnectsWithConnectLineAndGetsOkWithItsPort() throws IOException {
    try (SocketChannel host = SocketChannel.open(UnixDomainSocketAddress.of(uds))) {
      host.write(ByteBuffer.wrap(bytes("CONNECT 52\nearly")));
      vsock.pollHost(2000); // accept
      vsock.pollHost(2000); // the line
      List<Packet> got = guest.received();
      assertThat(got).hasSize(1);
      VsockHeader req = got.get(0).header();
      assertThat(req.op()).isEqualTo(OP_REQUEST);
      assertThat(req.dstPort()).isEqualTo(52);
      assertThat(req.dstCid()).isEqualTo(3);
      assertThat(req.srcPort()).isEqualTo(1 << 30);
      guest.send(OP_RESPONSE, 52, req.srcPort(), new byte[0]);
      assertThat(readSome(host, 14)).isEqualTo("OK 1073741824\n");
      got = guest.received();
      assertThat(got).hasSize(1);
      assertThat(new String(got.get(0).data(), StandardCharsets.US_ASCII)).isEqualTo("early");
      // The guest closes: the host sees end of stream.
      guest.send(OP_RST, 52, req.srcPort(), new byte[0]);
      assertThat(host.read(ByteBuffer.allocate(1))).isEqualTo(-1);
    }
  }

  @Test
  void withTheHostLoopOnItsThreadAGuestConnectionThenAHostConnectionBothWork() throws Exception {
    Thread loop = Thread.ofPlatform().daemon(true).start(() -> vsock.runHostLoop(why -> {}));
    try (ServerSocketChannel port5000 = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      port5000.bind(UnixDomainSocketAddress.of(uds + "_5000"));
      synchronized (vsock) {
        guest.send(OP_REQUEST, 1234, 5000, new byte[0]);
      }
      try (SocketChannel conn = port5000.accept()) {
        assertThat(awaitPackets(1)).extracting(p -> p.header().op()).containsExactly(OP_RESPONSE);
        synchronized (vsock) {
          guest.send(OP_RW, 1234, 5000, bytes("ping\n"));
        }
        assertThat(readSome(conn, 5)).isEqualTo("ping\n");
        conn.write(ByteBuffer.wrap(bytes("pong\n")));
        assertThat(awaitPackets(1)).extracting(p -> p.header().op()).containsExactly(OP_RW);
      }
      // The host closed first: the guest hears SHUTDOWN, then closes its side too.
      assertThat(awaitPackets(1)).extracting(p -> p.header().op()).containsExactly(OP_SHUTDOWN);
      synchronized (vsock) {
        guest.send(OP_SHUTDOWN, 1234, 5000, new byte[0], SHUTDOWN_RCV | SHUTDOWN_SEND, 65536, 5);
      }
      assertThat(awaitPackets(1)).extracting(p -> p.header().op()).contains(OP_RST);
      try (SocketChannel host = SocketChannel.open(UnixDomainSocketAddress.of(uds))) {
        host.write(ByteBuffer.wrap(bytes("CONNECT 1024\n")));
        List<Packet> got = awaitPackets(1);
        assertThat(got).extracting(p -> p.header().op()).containsExactly(OP_REQUEST);
      }
    } finally {
      vsock.close();
      loop.join(5000);
    }
  }

  private List<Packet> awaitPackets(int n) throws InterruptedException {
    List<Packet> all = new java.util.ArrayList<>();
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (all.size() < n && System.nanoTime() < deadline) {
      synchronized (vsock) {
        all.addAll(guest.received());
      }
      Thread.sleep(5);
    }
    assertThat(all).as("packets for the guest").hasSizeGreaterThanOrEqualTo(n);
    return all;
  }

  @Test
  void badConnectLineClosesTheHostSocket() throws IOException {
    try (SocketChannel host = SocketChannel.open(UnixDomainSocketAddress.of(uds))) {
      host.write(ByteBuffer.wrap(bytes("HELLO 52\n")));
      vsock.pollHost(2000);
      vsock.pollHost(2000);
      assertThat(host.read(ByteBuffer.allocate(1))).isEqualTo(-1);
      assertThat(guest.received()).isEmpty();
    }
  }

  @Test
  void respectsGuestCreditAndResetsCreditOverruns() throws IOException {
    try (ServerSocketChannel host = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      host.bind(UnixDomainSocketAddress.of(uds + "_7000"));
      guest.send(OP_REQUEST, 1, 7000, new byte[0], 0, 10, 0);
      guest.received();
      try (SocketChannel conn = host.accept()) {
        conn.write(ByteBuffer.wrap(new byte[100]));
        vsock.pollHost(2000);
        List<Packet> got = guest.received();
        assertThat(got).hasSize(1);
        assertThat(got.get(0).data()).hasSize(10);
        // The guest consumed them and says so: 10 more may come.
        guest.send(OP_CREDIT_UPDATE, 1, 7000, new byte[0], 0, 10, 10);
        assertThat(guest.received().get(0).data()).hasSize(10);
        // Nobody reads the host side: once the socket and the 256 KiB receive buffer are full,
        // further data overruns the credit the guest was given, and the connection is reset.
        boolean reset = false;
        long sent = 0;
        for (int i = 0; i < 40 && !reset; i++) {
          guest.send(OP_RW, 1, 7000, new byte[65536]);
          sent += 65536;
          reset = guest.received().stream().anyMatch(p -> p.header().op() == OP_RST);
        }
        assertThat(reset).isTrue();
        ByteBuffer sink = ByteBuffer.allocate(1 << 16);
        long total = 0;
        int n;
        while ((n = conn.read(sink.clear())) >= 0) {
          total += n;
        }
        // Reset only once the guest sent more than the socket took plus the credit it had.
        assertThat(sent).isGreaterThan(total + VsockConnection.BUF_ALLOC);
        assertThat(sent - 65536).isLessThanOrEqualTo(total + VsockConnection.BUF_ALLOC);
      }
    }
  }

  @Test
  void packetsForUnknownConnectionsOrOtherCidsAreRefused() {
    guest.send(OP_RW, 9, 9, bytes("x"));
    assertThat(guest.received()).extracting(p -> p.header().op()).containsExactly(OP_RST);
    guest.send(OP_RST, 9, 9, new byte[0]);
    assertThat(guest.received()).isEmpty();
    assertThat(h.needsReset()).isFalse();
  }
}
