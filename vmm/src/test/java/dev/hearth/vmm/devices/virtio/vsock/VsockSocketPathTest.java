package dev.hearth.vmm.devices.virtio.vsock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.vmm.devices.virtio.DeviceHarness;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A vsock device never takes over or removes a socket it did not make (issue 14, finding 10). */
class VsockSocketPathTest {
  @TempDir Path dir;

  @Test
  void aSecondDeviceOnALiveSocketIsRefusedAndTheFirstKeepsIt() throws Exception {
    Path uds = dir.resolve("v.sock");
    try (VirtioVsock first = new VirtioVsock(new VsockConfig(3, uds));
        DeviceHarness h = new DeviceHarness(first, 16).start()) {
      assertThatThrownBy(() -> new VirtioVsock(new VsockConfig(4, uds)))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("in use");
      // The first device still owns the path: a host program reaches its guest.
      VsockGuest guest = new VsockGuest(h);
      guest.postRx(4);
      try (SocketChannel host = SocketChannel.open(UnixDomainSocketAddress.of(uds))) {
        host.write(ByteBuffer.wrap("CONNECT 52\n".getBytes(StandardCharsets.US_ASCII)));
        List<VsockGuest.Packet> got = new ArrayList<>();
        for (int i = 0; i < 10 && got.isEmpty(); i++) {
          first.pollHost(200);
          got.addAll(guest.received());
        }
        assertThat(got).extracting(p -> p.header().dstPort()).containsExactly(52);
      }
    }
  }

  @Test
  void aStaleSocketNobodyListensOnIsReplaced() throws Exception {
    Path uds = dir.resolve("v.sock");
    ServerSocketChannel old = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    old.bind(UnixDomainSocketAddress.of(uds));
    old.close(); // a crashed VMM leaves its socket file behind
    assertThat(uds).exists();
    try (VirtioVsock vsock = new VirtioVsock(new VsockConfig(3, uds));
        DeviceHarness _ = new DeviceHarness(vsock, 16).start()) {
      try (SocketChannel _ = SocketChannel.open(UnixDomainSocketAddress.of(uds))) {
        vsock.pollHost(2000);
        assertThat(vsock.connectionCount()).isEqualTo(1);
      }
    }
  }

  @Test
  void aFileThatIsNotASocketIsNeverRemoved() throws Exception {
    Path uds = dir.resolve("v.sock");
    Files.writeString(uds, "somebody's data");
    assertThatThrownBy(() -> new VirtioVsock(new VsockConfig(3, uds)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("not a socket");
    assertThat(uds).hasContent("somebody's data");
  }

  @Test
  void closingLeavesAloneASocketThatReplacedOurs() throws Exception {
    Path uds = dir.resolve("v.sock");
    VirtioVsock vsock = new VirtioVsock(new VsockConfig(3, uds));
    Files.delete(uds);
    try (ServerSocketChannel other = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      other.bind(UnixDomainSocketAddress.of(uds));
      vsock.close();
      assertThat(uds).exists();
    }
  }
}
