package dev.hearth.vmm.devices.virtio.rng;

import static dev.hearth.vmm.devices.virtio.queue.MockDriver.Buf.in;
import static dev.hearth.vmm.devices.virtio.queue.MockDriver.Buf.out;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.devices.virtio.DeviceHarness;
import dev.hearth.vmm.devices.virtio.queue.MockDriver;
import dev.hearth.vmm.devices.virtio.queue.MockDriver.Used;
import dev.hearth.vmm.ratelimit.FakeClock;
import dev.hearth.vmm.ratelimit.FakeRefillTimer;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import dev.hearth.vmm.ratelimit.TokenBucketConfig;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class VirtioRngTest {
  private final FakeClock clock = new FakeClock();
  private final FakeRefillTimer.Factory timers = new FakeRefillTimer.Factory();

  private static void sevens(byte[] b) {
    Arrays.fill(b, (byte) 7);
  }

  @Test
  void fillsWritableBuffersFromTheSource() {
    VirtioRng rng =
        new VirtioRng(VirtioRngTest::sevens, RateLimiterConfig.UNLIMITED, clock, timers);
    try (DeviceHarness h = new DeviceHarness(rng, 16).start()) {
      MockDriver q = h.queue(0);
      long a = q.alloc(10);
      long b = q.alloc(6);
      int head = q.addChain(out(a, 10), out(b, 6));
      h.mmio.notify(0);
      assertThat(q.takeUsed()).containsExactly(new Used(head, 16));
      assertThat(q.read(a, 10)).containsOnly(7);
      assertThat(q.read(b, 6)).containsOnly(7);
      assertThat(h.interrupts.get()).isEqualTo(1);
    }
  }

  @Test
  void secureRandomSourceProducesVaryingBytes() {
    VirtioRng rng =
        new VirtioRng(EntropySource.secureRandom(), RateLimiterConfig.UNLIMITED, clock, timers);
    try (DeviceHarness h = new DeviceHarness(rng, 16).start()) {
      MockDriver q = h.queue(0);
      long a = q.alloc(64);
      q.addChain(out(a, 64));
      h.mmio.notify(0);
      assertThat(q.read(a, 64)).isNotEqualTo(new byte[64]);
    }
  }

  @Test
  void readOnlyRequestGetsNothingAndOversizeIsCapped() {
    VirtioRng rng =
        new VirtioRng(VirtioRngTest::sevens, RateLimiterConfig.UNLIMITED, clock, timers);
    try (DeviceHarness h = new DeviceHarness(rng, 16).start()) {
      MockDriver q = h.queue(0);
      int h1 = q.addChain(in(q.alloc(8), 8));
      long big = q.alloc(100_000);
      int h2 = q.addChain(out(big, 100_000));
      h.mmio.notify(0);
      assertThat(q.takeUsed())
          .containsExactly(new Used(h1, 0), new Used(h2, VirtioRng.MAX_REQUEST_BYTES));
      assertThat(q.read(big + VirtioRng.MAX_REQUEST_BYTES, 8)).containsOnly(0);
    }
  }

  @Test
  void rateLimiterHoldsRequestsUntilTheTimerFires() {
    RateLimiterConfig limit =
        new RateLimiterConfig(TokenBucketConfig.DISABLED, new TokenBucketConfig(2, 0, 1000));
    VirtioRng rng = new VirtioRng(VirtioRngTest::sevens, limit, clock, timers);
    try (DeviceHarness h = new DeviceHarness(rng, 16).start()) {
      MockDriver q = h.queue(0);
      long a = q.alloc(4);
      for (int i = 0; i < 3; i++) {
        q.addChain(out(a, 4));
      }
      h.mmio.notify(0);
      assertThat(q.takeUsed()).hasSize(2);
      FakeRefillTimer timer = timers.timers.get(0);
      assertThat(timer.armedDelayNanos()).isEqualTo(500_000_000L);
      clock.advanceMillis(500);
      timer.fire();
      assertThat(q.takeUsed()).hasSize(1);
      // Bandwidth limit on a live limiter.
      rng.rateLimiter()
          .update(
              dev.hearth.vmm.ratelimit.BucketUpdate.set(new TokenBucketConfig(6, 0, 1000)),
              dev.hearth.vmm.ratelimit.BucketUpdate.set(TokenBucketConfig.DISABLED));
      q.addChain(out(a, 4));
      q.addChain(out(a, 4));
      h.mmio.notify(0);
      assertThat(q.takeUsed()).hasSize(1);
    }
  }
}
