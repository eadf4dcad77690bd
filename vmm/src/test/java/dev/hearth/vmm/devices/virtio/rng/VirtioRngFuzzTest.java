package dev.hearth.vmm.devices.virtio.rng;

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

/** 100,000 random and mutated requests against virtio-rng. */
class VirtioRngFuzzTest {
  static final int CHAINS = ChainFuzzer.chains(100_000);

  static List<Buf> request(Random r, MockDriver q) {
    List<Buf> bufs = new ArrayList<>();
    int pieces = 1 + r.nextInt(3);
    for (int i = 0; i < pieces; i++) {
      int n = r.nextInt(2048);
      bufs.add(
          r.nextInt(20) == 0
              ? Buf.in(q.allocUninitialised(n), n)
              : Buf.out(q.allocUninitialised(n), n));
    }
    return bufs;
  }

  @Test
  void survivesHostileChains() {
    Random source = new Random(1);
    VirtioRng rng =
        new VirtioRng(
            source::nextBytes,
            RateLimiterConfig.UNLIMITED,
            new FakeClock(),
            new FakeRefillTimer.Factory());
    try (DeviceHarness h = new DeviceHarness(rng, 64).start()) {
      ChainFuzzer.Stats s =
          new ChainFuzzer(h, 0x5EED).run(0, CHAINS, VirtioRngFuzzTest::request, true, () -> {});
      System.out.println("virtio-rng fuzz: " + s);
      assertThat(s.completed() + s.resets() + s.ringOverwrites()).isEqualTo(CHAINS);
      assertThat(s.ringOverwrites()).isLessThan(CHAINS / 20);
      assertThat(s.resets()).isPositive();
    }
  }

  @Test
  void survivesRingsRewrittenConcurrently() throws Exception {
    Random source = new Random(2);
    VirtioRng rng =
        new VirtioRng(
            source::nextBytes,
            RateLimiterConfig.UNLIMITED,
            new FakeClock(),
            new FakeRefillTimer.Factory());
    try (DeviceHarness h = new DeviceHarness(rng, 64).start()) {
      ConcurrentRingFuzzer.Stats s =
          new ConcurrentRingFuzzer(h, 0x5EEE)
              .run(0, CHAINS / 5, VirtioRngFuzzTest::request, () -> {});
      System.out.println("virtio-rng concurrent fuzz: " + s);
      assertThat(s.used()).isPositive();
    }
  }
}
