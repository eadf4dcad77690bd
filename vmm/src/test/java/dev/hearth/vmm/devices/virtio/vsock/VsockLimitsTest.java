package dev.hearth.vmm.devices.virtio.vsock;

import static dev.hearth.vmm.devices.virtio.vsock.VsockHeader.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.hearth.vmm.devices.virtio.DeviceHarness;
import dev.hearth.vmm.devices.virtio.vsock.VsockGuest.Packet;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A hostile guest against vsock's resource bounds (issue 14, finding 4). */
class VsockLimitsTest {
  @TempDir Path dir;
  private VirtioVsock vsock;
  private DeviceHarness h;
  private VsockGuest guest;

  private void start(long maxBuffered) throws IOException {
    vsock = new VirtioVsock(new VsockConfig(VsockGuest.CID, dir.resolve("v.sock"), maxBuffered));
    h = new DeviceHarness(vsock, 64).start();
    guest = new VsockGuest(h);
  }

  @AfterEach
  void stop() throws IOException {
    vsock.close();
    h.close();
  }

  @Test
  void anRstFloodWithoutReceiveBuffersIsHeldBackInsteadOfQueued() throws IOException {
    start(VsockConfig.DEFAULT_MAX_BUFFERED_BYTES);
    // Packets for no connection: each one is answered with RST, and the guest posts no buffer to
    // take the answers.
    int sent = 0;
    while (sent < 20_000 && guest.sendHeader(OP_RW, 1000 + sent, 9, 0, 65536, 0)) {
      sent++;
      guest.tx.takeUsed();
    }
    assertThat(vsock.pendingControl()).isLessThanOrEqualTo(VsockControl.MAX_RESETS);
    assertThat(guest.tx.pending()).as("TX chains held back").isEqualTo(guest.tx.size());
    // Once the guest gives receive buffers, every answer arrives and TX moves again.
    guest.postRx(16);
    int rsts = 0;
    for (int i = 0; i < 10_000 && rsts < sent; i++) {
      rsts +=
          (int) guest.receivedRecycling().stream().filter(p -> p.header().op() == OP_RST).count();
    }
    assertThat(guest.tx.pending()).isZero();
    assertThat(rsts).isEqualTo(sent);
    assertThat(vsock.pendingControl()).isZero();
  }

  @Test
  void connectionsAreCappedAtFirecrackersLimitAndTakeNoBufferUntilNeeded() throws IOException {
    start(VsockConfig.DEFAULT_MAX_BUFFERED_BYTES);
    guest.postRx(16);
    try (ServerSocketChannel host = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      // A listener that never accepts, with room for every connection in its backlog.
      host.bind(UnixDomainSocketAddress.of(dir.resolve("v.sock_5000")), 2000);
      int responses = 0;
      int rsts = 0;
      for (int port = 1; port <= 1100; port++) {
        guest.sendHeader(OP_REQUEST, port, 5000, 0, 65536, 0);
        for (Packet p : guest.receivedRecycling()) {
          responses += p.header().op() == OP_RESPONSE ? 1 : 0;
          rsts += p.header().op() == OP_RST ? 1 : 0;
        }
        guest.tx.takeUsed();
      }
      assertThat(responses).isEqualTo(VsockMuxer.MAX_CONNECTIONS).isEqualTo(1023);
      assertThat(rsts).isEqualTo(1100 - 1023);
      assertThat(vsock.connectionCount()).isEqualTo(1023);
      assertThat(vsock.bufferedBytes()).as("heap held for idle connections").isZero();
    }
  }

  @Test
  void guestDataTheHostDoesNotReadStaysWithinTheDeviceBudget() throws IOException {
    long budget = 256 << 10; // the kernel takes most of each 256 KiB into the socket itself
    start(budget);
    guest.postRx(16);
    try (ServerSocketChannel host = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      host.bind(UnixDomainSocketAddress.of(dir.resolve("v.sock_5000")), 100);
      int conns = 24;
      for (int port = 1; port <= conns; port++) {
        guest.sendHeader(OP_REQUEST, port, 5000, 0, 65536, 0);
      }
      guest.freeTx();
      java.util.Set<Integer> reset = new java.util.HashSet<>();
      // Each connection sends all the credit it was given; nobody reads the host side.
      for (int round = 0; round < VsockConnection.BUF_ALLOC / 65536; round++) {
        for (int port = 1; port <= conns; port++) {
          if (reset.contains(port)) {
            continue;
          }
          assertThat(guest.sendData(port, 5000, 65536)).isTrue();
          for (Packet p : guest.receivedRecycling()) {
            if (p.header().op() == OP_RST) {
              reset.add(p.header().dstPort());
            }
          }
          assertThat(vsock.bufferedBytes()).isLessThanOrEqualTo(budget);
        }
        guest.freeTx();
      }
      assertThat(reset).as("connections reset for the budget").isNotEmpty();
      assertThat(vsock.connectionCount()).isEqualTo(conns - reset.size());
    }
  }

  @Test
  void aGuestConnectToAListenerThatNeverAcceptsNeitherBlocksTheDeviceNorItsStop() throws Exception {
    start(VsockConfig.DEFAULT_MAX_BUFFERED_BYTES);
    guest.postRx(16);
    Path port = dir.resolve("v.sock_5000");
    List<SocketChannel> queued = new ArrayList<>();
    try (ServerSocketChannel host = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      host.bind(UnixDomainSocketAddress.of(port), 1);
      // Fill the backlog: a blocking connect there waits until the listener accepts.
      while (queued.size() < 64) {
        SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
        c.configureBlocking(false);
        queued.add(c);
        try {
          c.connect(UnixDomainSocketAddress.of(port));
        } catch (IOException full) {
          break;
        }
      }
      Thread connect =
          Thread.ofPlatform()
              .start(
                  () -> {
                    synchronized (vsock) {
                      guest.sendHeader(OP_REQUEST, 77, 5000, 0, 65536, 0);
                    }
                  });
      connect.join(5000);
      assertThat(connect.isAlive()).as("the device is stuck in connect").isFalse();
      List<Packet> got = guest.received();
      assertThat(got).extracting(p -> p.header().op()).containsExactly(OP_RST);
      assertTimeoutPreemptively(Duration.ofSeconds(2), vsock::close);
    } finally {
      for (SocketChannel c : queued) {
        c.close();
      }
    }
  }
}
