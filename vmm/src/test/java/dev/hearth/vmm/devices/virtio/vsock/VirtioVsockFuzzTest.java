package dev.hearth.vmm.devices.virtio.vsock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.devices.virtio.ChainFuzzer;
import dev.hearth.vmm.devices.virtio.ConcurrentRingFuzzer;
import dev.hearth.vmm.devices.virtio.DeviceHarness;
import dev.hearth.vmm.devices.virtio.queue.MockDriver;
import dev.hearth.vmm.devices.virtio.queue.MockDriver.Buf;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random and mutated packets on virtio-vsock's TX queue, with hostile RX buffers: first with
 * nothing listening on the host, then against live host programs, so that streams get established
 * and the credit, data and shutdown paths of live connections are fuzzed too.
 */
class VirtioVsockFuzzTest {
  static final int CHAINS = ChainFuzzer.chains(100_000);

  @TempDir Path dir;

  static List<Buf> packet(Random r, MockDriver q) {
    int len = r.nextInt(4) == 0 ? r.nextInt(300) : 0;
    int op = r.nextInt(10);
    long srcCid = r.nextInt(10) == 0 ? r.nextLong() : VsockGuest.CID;
    long dstCid = r.nextInt(10) == 0 ? r.nextInt(5) : 2;
    int declared = r.nextInt(10) == 0 ? r.nextInt() : len;
    VsockHeader h =
        new VsockHeader(
            srcCid,
            dstCid,
            r.nextInt(4),
            r.nextInt(4),
            declared,
            r.nextInt(8) == 0 ? 2 : 1,
            op,
            r.nextInt(4),
            r.nextInt(),
            r.nextInt());
    long ha = q.allocUninitialised(VsockHeader.SIZE);
    q.write(ha, h.encode());
    List<Buf> bufs = new ArrayList<>();
    bufs.add(Buf.in(ha, VsockHeader.SIZE));
    if (len > 0) {
      bufs.add(Buf.in(q.allocUninitialised(len), len));
    }
    return bufs;
  }

  @Test
  void survivesHostileChains() throws IOException {
    try (VirtioVsock vsock =
            new VirtioVsock(new VsockConfig(VsockGuest.CID, dir.resolve("f.sock")));
        DeviceHarness h = new DeviceHarness(vsock, 64).start()) {
      MockDriver rx = h.queue(VirtioVsock.RX);
      Random r = new Random(0x750C);
      long rxBuf = rx.alloc(8192);
      Runnable feedRx =
          () -> {
            // Keep receive buffers coming, some of them hostile: too small, read-only, outside
            // memory.
            if (rx.pending() < rx.size() / 2) {
              switch (r.nextInt(10)) {
                case 0 -> rx.addChain(Buf.out(rxBuf, r.nextInt(44)));
                case 1 -> rx.addChain(Buf.in(rxBuf, 4096));
                case 2 -> rx.addChain(Buf.out(DeviceHarness.MEMORY - 10, 4096));
                default -> rx.addChain(Buf.out(rxBuf, 4096));
              }
            }
          };
      ChainFuzzer.Stats s =
          new ChainFuzzer(h, 0x750C)
              .run(VirtioVsock.TX, CHAINS, VirtioVsockFuzzTest::packet, true, feedRx);
      System.out.println("virtio-vsock fuzz: " + s);
      assertThat(s.completed() + s.resets() + s.ringOverwrites()).isEqualTo(CHAINS);
      assertThat(s.ringOverwrites()).isLessThan(CHAINS / 20);
    }
  }

  /** Packets for live connections: mostly RW, credit and shutdown, on a few ports. */
  static List<Buf> streamPacket(Random r, MockDriver q) {
    int op =
        switch (r.nextInt(10)) {
          case 0 -> VsockHeader.OP_REQUEST;
          case 1, 2, 3, 4 -> VsockHeader.OP_RW;
          case 5 -> VsockHeader.OP_CREDIT_UPDATE;
          case 6 -> VsockHeader.OP_CREDIT_REQUEST;
          case 7 -> VsockHeader.OP_SHUTDOWN;
          case 8 -> VsockHeader.OP_RST;
          default -> r.nextInt(10);
        };
    int len = op == VsockHeader.OP_RW ? r.nextInt(r.nextInt(8) == 0 ? 65536 : 600) : 0;
    int bufAlloc = r.nextInt(6) == 0 ? r.nextInt() : 65536 << r.nextInt(3);
    int fwdCnt = r.nextInt(6) == 0 ? r.nextInt() : r.nextInt(1 << 20);
    VsockHeader h =
        new VsockHeader(
            VsockGuest.CID,
            2,
            r.nextInt(8),
            r.nextInt(HostPeers.PORTS),
            len,
            VsockHeader.TYPE_STREAM,
            op,
            r.nextInt(4),
            bufAlloc,
            fwdCnt);
    long ha = q.allocUninitialised(VsockHeader.SIZE);
    q.write(ha, h.encode());
    List<Buf> bufs = new ArrayList<>();
    bufs.add(Buf.in(ha, VsockHeader.SIZE));
    if (len > 0) {
      bufs.add(Buf.in(q.allocUninitialised(len), len));
    }
    return bufs;
  }

  @Test
  void survivesHostileChainsOnLiveConnections() throws IOException {
    Path uds = dir.resolve("g.sock");
    long budget = 1 << 20;
    Random r = new Random(0x57AB);
    try (VirtioVsock vsock = new VirtioVsock(new VsockConfig(VsockGuest.CID, uds, budget));
        DeviceHarness h = new DeviceHarness(vsock, 64).start();
        HostPeers host = new HostPeers(uds, r)) {
      MockDriver rx = h.queue(VirtioVsock.RX);
      long rxBuf = rx.alloc(8192);
      int[] maxConns = {0};
      Runnable between =
          () -> {
            if (rx.pending() < rx.size() / 2) {
              rx.takeUsed();
              switch (r.nextInt(12)) {
                case 0 -> rx.addChain(Buf.out(rxBuf, r.nextInt(60)));
                case 1 -> rx.addChain(Buf.in(rxBuf, 4096));
                default -> rx.addChain(Buf.out(rxBuf, 4096 << r.nextInt(2)));
              }
            }
            host.step();
            try {
              vsock.pollHost(-1);
            } catch (IOException e) {
              throw new AssertionError(e);
            }
            synchronized (vsock) {
              maxConns[0] = Math.max(maxConns[0], vsock.connectionCount());
              assertThat(vsock.connectionCount()).isLessThanOrEqualTo(VsockMuxer.MAX_CONNECTIONS);
              assertThat(vsock.pendingControl())
                  .isLessThanOrEqualTo(VsockControl.MAX_RESETS + vsock.connectionCount());
              assertThat(vsock.bufferedBytes()).isBetween(0L, budget);
            }
          };
      ChainFuzzer.Stats s =
          new ChainFuzzer(h, 0x57AB)
              .run(VirtioVsock.TX, CHAINS, VirtioVsockFuzzTest::streamPacket, true, between);
      System.out.println(
          "virtio-vsock live-connection fuzz: "
              + s
              + "; up to "
              + maxConns[0]
              + " connections at once, "
              + host.bytesRead
              + " guest bytes read by host programs");
      assertThat(s.completed() + s.resets() + s.ringOverwrites()).isEqualTo(CHAINS);
      assertThat(maxConns[0]).as("connections were established").isPositive();
      assertThat(host.bytesRead).as("guest data reached the host").isPositive();
    }
  }

  @Test
  void survivesRingsRewrittenConcurrently() throws Exception {
    Path uds = dir.resolve("c.sock");
    Random r = new Random(0x57AC);
    try (VirtioVsock vsock = new VirtioVsock(new VsockConfig(VsockGuest.CID, uds));
        DeviceHarness h = new DeviceHarness(vsock, 64).start();
        HostPeers host = new HostPeers(uds, r)) {
      MockDriver rx = h.queue(VirtioVsock.RX);
      long rxBuf = rx.alloc(8192);
      Runnable between =
          () -> {
            if (rx.pending() < rx.size() / 2) {
              rx.takeUsed();
              rx.addChain(Buf.out(rxBuf, 4096));
            }
            host.step();
            try {
              vsock.pollHost(-1);
            } catch (IOException e) {
              throw new AssertionError(e);
            }
          };
      ConcurrentRingFuzzer.Stats s =
          new ConcurrentRingFuzzer(h, 0x57AD)
              .run(VirtioVsock.TX, CHAINS / 5, VirtioVsockFuzzTest::streamPacket, between);
      System.out.println("virtio-vsock concurrent fuzz: " + s);
      assertThat(s.used()).isPositive();
    }
  }
}
