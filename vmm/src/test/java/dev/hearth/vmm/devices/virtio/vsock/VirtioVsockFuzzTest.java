package dev.hearth.vmm.devices.virtio.vsock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.devices.virtio.ChainFuzzer;
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

/** 100,000 random and mutated packets on virtio-vsock's TX queue, with hostile RX buffers. */
class VirtioVsockFuzzTest {
  static final int CHAINS = 100_000;

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
}
