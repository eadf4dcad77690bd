package dev.hearth.vmm.devices.virtio.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.devices.virtio.ChainFuzzer;
import dev.hearth.vmm.devices.virtio.ConcurrentRingFuzzer;
import dev.hearth.vmm.devices.virtio.DeviceHarness;
import dev.hearth.vmm.devices.virtio.queue.MockDriver;
import dev.hearth.vmm.devices.virtio.queue.MockDriver.Buf;
import dev.hearth.vmm.ratelimit.FakeClock;
import dev.hearth.vmm.ratelimit.FakeRefillTimer;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** 100,000 random and mutated chains against virtio-net: 50,000 on each of its two queues. */
class VirtioNetFuzzTest {
  /** Per queue: the device gets twice this. */
  static final int CHAINS = ChainFuzzer.chains(100_000) / 2;

  static List<Buf> txFrame(Random r, MockDriver q) {
    List<Buf> bufs = new ArrayList<>();
    int len = 1 + r.nextInt(1514);
    if (r.nextBoolean()) {
      bufs.add(Buf.in(q.allocUninitialised(12 + len), 12 + len));
    } else {
      bufs.add(Buf.in(q.allocUninitialised(12), 12));
      bufs.add(Buf.in(q.allocUninitialised(len), len));
    }
    return bufs;
  }

  static List<Buf> rxBuffer(Random r, MockDriver q) {
    List<Buf> bufs = new ArrayList<>();
    int pieces = 1 + r.nextInt(3);
    for (int i = 0; i < pieces; i++) {
      int n = r.nextInt(4) == 0 ? r.nextInt(100) : 1526;
      bufs.add(Buf.out(q.allocUninitialised(n), n));
    }
    return bufs;
  }

  @Test
  void survivesHostileChains() {
    FakeTap tap = new FakeTap();
    Random frames = new Random(7);
    tap.source = () -> new byte[frames.nextInt(1600)];
    VirtioNet net =
        new VirtioNet(
            tap,
            new NetConfig(
                "fuzz0",
                MacAddress.parse("02:00:00:00:00:01"),
                RateLimiterConfig.UNLIMITED,
                RateLimiterConfig.UNLIMITED),
            new FakeClock(),
            new FakeRefillTimer.Factory());
    try (DeviceHarness h = new DeviceHarness(net, 64).start()) {
      ChainFuzzer fuzzer = new ChainFuzzer(h, 0x4E7);
      ChainFuzzer.Stats tx =
          fuzzer.run(
              VirtioNet.TX, CHAINS, VirtioNetFuzzTest::txFrame, true, () -> tap.outbound.clear());
      ChainFuzzer.Stats rx =
          fuzzer.run(VirtioNet.RX, CHAINS, VirtioNetFuzzTest::rxBuffer, true, () -> {});
      System.out.println("virtio-net fuzz: tx " + tx + ", rx " + rx);
      assertThat(tx.completed() + tx.resets() + tx.ringOverwrites()).isEqualTo(CHAINS);
      assertThat(tx.ringOverwrites()).isLessThan(CHAINS / 20);
      assertThat(rx.completed() + rx.resets() + rx.ringOverwrites()).isEqualTo(CHAINS);
      assertThat(rx.ringOverwrites()).isLessThan(CHAINS / 20);
      assertThat(net.counters().txFrames()).isPositive();
      assertThat(net.counters().rxFrames()).isPositive();
    }
  }

  @Test
  void survivesRingsRewrittenConcurrently() throws Exception {
    FakeTap tap = new FakeTap();
    Random frames = new Random(8);
    tap.source = () -> new byte[frames.nextInt(1600)];
    VirtioNet net =
        new VirtioNet(
            tap,
            new NetConfig(
                "fuzz0",
                MacAddress.parse("02:00:00:00:00:01"),
                RateLimiterConfig.UNLIMITED,
                RateLimiterConfig.UNLIMITED),
            new FakeClock(),
            new FakeRefillTimer.Factory());
    try (DeviceHarness h = new DeviceHarness(net, 64).start()) {
      ConcurrentRingFuzzer.Stats tx =
          new ConcurrentRingFuzzer(h, 0x4E8)
              .run(
                  VirtioNet.TX, CHAINS / 5, VirtioNetFuzzTest::txFrame, () -> tap.outbound.clear());
      ConcurrentRingFuzzer.Stats rx =
          new ConcurrentRingFuzzer(h, 0x4E9)
              .run(VirtioNet.RX, CHAINS / 5, VirtioNetFuzzTest::rxBuffer, () -> {});
      System.out.println("virtio-net concurrent fuzz: tx " + tx + "; rx " + rx);
      assertThat(tx.used()).isPositive();
      assertThat(rx.used()).isPositive();
    }
  }
}
