package dev.hearth.vmm.devices.virtio.block;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.devices.virtio.ChainFuzzer;
import dev.hearth.vmm.devices.virtio.ConcurrentRingFuzzer;
import dev.hearth.vmm.devices.virtio.DeviceHarness;
import dev.hearth.vmm.devices.virtio.queue.MockDriver;
import dev.hearth.vmm.devices.virtio.queue.MockDriver.Buf;
import dev.hearth.vmm.ratelimit.FakeClock;
import dev.hearth.vmm.ratelimit.FakeRefillTimer;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** 100,000 random and mutated requests against virtio-blk. */
class VirtioBlockFuzzTest {
  static final int CHAINS = ChainFuzzer.chains(100_000);
  static final int SECTORS = 2048;

  static List<Buf> request(Random r, MockDriver q) {
    int[] types = {
      VirtioBlock.T_IN, VirtioBlock.T_OUT, VirtioBlock.T_FLUSH, VirtioBlock.T_GET_ID, r.nextInt()
    };
    int type = types[r.nextInt(types.length)];
    long sector = r.nextInt(10) == 0 ? r.nextLong() : r.nextInt(SECTORS + 4);
    long header = q.allocUninitialised(16);
    q.write(
        header,
        ByteBuffer.allocate(16)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putInt(0, type)
            .putLong(8, sector)
            .array());
    int dataLen = r.nextInt(10) == 0 ? r.nextInt(5000) : 512 * r.nextInt(9);
    boolean out = type == VirtioBlock.T_OUT;
    List<Buf> bufs = new ArrayList<>();
    bufs.add(Buf.in(header, 16));
    int pieces = dataLen == 0 ? 0 : 1 + r.nextInt(3);
    int left = dataLen;
    for (int i = 0; i < pieces; i++) {
      int n = i == pieces - 1 ? left : r.nextInt(left + 1);
      left -= n;
      long at = q.allocUninitialised(n);
      bufs.add(out ? Buf.in(at, n) : Buf.out(at, n));
    }
    bufs.add(Buf.out(q.allocUninitialised(1), 1));
    return bufs;
  }

  @Test
  void survivesHostileChains() throws IOException {
    // In memory: the fuzz is about parsing hostile requests; a file would only add syscalls and
    // an fsync per FLUSH. VirtioBlockTest covers the FileChannel backend.
    VirtioBlock blk =
        new VirtioBlock(
            new MemoryBlockBackend(SECTORS * 512),
            false,
            "fuzz",
            RateLimiterConfig.UNLIMITED,
            new FakeClock(),
            new FakeRefillTimer.Factory());
    try (DeviceHarness h = new DeviceHarness(blk, 64).start()) {
      ChainFuzzer.Stats s =
          new ChainFuzzer(h, 0xB10C).run(0, CHAINS, VirtioBlockFuzzTest::request, true, () -> {});
      System.out.println("virtio-blk fuzz: " + s);
      assertThat(s.completed() + s.resets() + s.ringOverwrites()).isEqualTo(CHAINS);
      assertThat(s.ringOverwrites()).isLessThan(CHAINS / 20);
      assertThat(s.resets()).isPositive();
      assertThat(s.completed() - s.zeroLength()).isPositive();
    }
  }

  @Test
  void survivesHostileChainsWhileRateLimited() throws IOException {
    // Tight limits so that many requests are held back (undoPop) and resumed by the refill timer.
    FakeClock clock = new FakeClock();
    FakeRefillTimer.Factory timers = new FakeRefillTimer.Factory();
    RateLimiterConfig limit =
        new RateLimiterConfig(
            new dev.hearth.vmm.ratelimit.TokenBucketConfig(8192, 0, 1000),
            new dev.hearth.vmm.ratelimit.TokenBucketConfig(2, 0, 1000));
    VirtioBlock blk =
        new VirtioBlock(new MemoryBlockBackend(SECTORS * 512), false, "fuzz", limit, clock, timers);
    try (DeviceHarness h = new DeviceHarness(blk, 64).start()) {
      FakeRefillTimer timer = timers.timers.get(0);
      int[] tick = {0};
      Runnable time =
          () -> {
            // Refill every third chain: bursts block the limiter, the backlog still drains.
            if (tick[0]++ % 3 == 0) {
              clock.advanceMillis(1000);
              synchronized (blk) {
                timer.fire();
              }
            }
          };
      ChainFuzzer.Stats s =
          new ChainFuzzer(h, 0xB10D).run(0, CHAINS / 5, VirtioBlockFuzzTest::request, false, time);
      System.out.println("virtio-blk rate-limited fuzz: " + s);
      assertThat(timer.armCount()).isPositive();
      assertThat(s.resets()).isPositive();
    }
  }

  @Test
  void survivesRingsRewrittenConcurrently() throws Exception {
    VirtioBlock blk =
        new VirtioBlock(
            new MemoryBlockBackend(SECTORS * 512),
            false,
            "fuzz",
            RateLimiterConfig.UNLIMITED,
            new FakeClock(),
            new FakeRefillTimer.Factory());
    try (DeviceHarness h = new DeviceHarness(blk, 64).start()) {
      ConcurrentRingFuzzer.Stats s =
          new ConcurrentRingFuzzer(h, 0xB10E)
              .run(0, CHAINS / 5, VirtioBlockFuzzTest::request, () -> {});
      System.out.println("virtio-blk concurrent fuzz: " + s);
      assertThat(s.used()).isPositive();
    }
  }
}
