package dev.hearth.vmm.devices.virtio.net;

import static dev.hearth.vmm.devices.virtio.queue.MockDriver.Buf.in;
import static dev.hearth.vmm.devices.virtio.queue.MockDriver.Buf.out;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.devices.virtio.DeviceHarness;
import dev.hearth.vmm.devices.virtio.VirtioFeatures;
import dev.hearth.vmm.devices.virtio.queue.MockDriver;
import dev.hearth.vmm.devices.virtio.queue.MockDriver.Used;
import dev.hearth.vmm.ratelimit.FakeClock;
import dev.hearth.vmm.ratelimit.FakeRefillTimer;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import dev.hearth.vmm.ratelimit.TokenBucketConfig;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class VirtioNetTest {
  private final FakeClock clock = new FakeClock();
  private final FakeRefillTimer.Factory timers = new FakeRefillTimer.Factory();
  private final FakeTap tap = new FakeTap();
  private static final MacAddress MAC = MacAddress.parse("02:00:00:ab:cd:ef");

  private VirtioNet net(RateLimiterConfig rx, RateLimiterConfig tx) {
    return new VirtioNet(tap, new NetConfig("tap0", MAC, rx, tx), clock, timers);
  }

  private VirtioNet net() {
    return net(RateLimiterConfig.UNLIMITED, RateLimiterConfig.UNLIMITED);
  }

  static byte[] frame(int len, int fill) {
    byte[] f = new byte[len];
    Arrays.fill(f, VirtioNet.VNET_HDR_SIZE, len, (byte) fill);
    return f;
  }

  @Test
  void macInConfigAndOffloadsOnlyAsTheTapAllows() {
    tap.offloads =
        VirtioFeatures.bit(VirtioNet.F_GUEST_CSUM)
            | VirtioFeatures.bit(VirtioNet.F_GUEST_TSO4)
            | VirtioFeatures.bit(40);
    try (DeviceHarness h = new DeviceHarness(net(), 16)) {
      assertThat(h.mmio.config(0, 6)).containsExactly(MAC.octets());
      long f = h.mmio.deviceFeatures();
      assertThat(VirtioFeatures.has(f, VirtioNet.F_MAC)).isTrue();
      assertThat(VirtioFeatures.has(f, VirtioNet.F_GUEST_TSO4)).isTrue();
      assertThat(VirtioFeatures.has(f, VirtioNet.F_GUEST_TSO6)).isFalse();
      assertThat(VirtioFeatures.has(f, 40)).isFalse();
      h.start();
      assertThat(tap.tunFlags).isEqualTo(VirtioNet.TUN_F_CSUM | VirtioNet.TUN_F_TSO4);
    }
    try (DeviceHarness h = new DeviceHarness(net(), 16)) {
      h.start(~VirtioFeatures.bit(VirtioNet.F_GUEST_CSUM));
      assertThat(tap.tunFlags).isZero(); // TSO needs checksum offload
    }
  }

  @Test
  void transmitsFramesWithTheirHeaderAndDropsMalformedOnes() {
    try (DeviceHarness h = new DeviceHarness(net(), 16).start()) {
      MockDriver tx = h.queue(VirtioNet.TX);
      long hdr = tx.alloc(12);
      long body = tx.alloc(60);
      tx.write(body, frame(60, 9));
      int good = tx.addChain(in(hdr, 12), in(body, 60));
      int runt = tx.addChain(in(hdr, 12));
      int wrongWay = tx.addChain(in(hdr, 12), out(body, 60));
      h.mmio.notify(VirtioNet.TX);
      assertThat(tx.takeUsed())
          .containsExactly(new Used(good, 0), new Used(runt, 0), new Used(wrongWay, 0));
      assertThat(tap.outbound).hasSize(1);
      assertThat(tap.outbound.get(0)).hasSize(72);
      VirtioNet dev = (VirtioNet) h.transport.device();
      assertThat(dev.counters().txFrames()).isEqualTo(1);
      assertThat(dev.counters().txDropped()).isEqualTo(2);
      tap.failWrites = true;
      tx.addChain(in(hdr, 12), in(body, 60));
      h.mmio.notify(VirtioNet.TX);
      assertThat(dev.counters().txErrors()).isEqualTo(1);
      assertThat(h.needsReset()).isFalse();
    }
  }

  @Test
  void receivesIntoPostedBuffersAndHoldsAFrameUntilOneIsPosted() {
    try (DeviceHarness h = new DeviceHarness(net(), 16).start()) {
      VirtioNet dev = (VirtioNet) h.transport.device();
      MockDriver rx = h.queue(VirtioNet.RX);
      tap.inbound.add(frame(100, 1));
      tap.inbound.add(frame(80, 2));
      dev.onBackendReadable(); // no buffers yet: the first frame is held
      assertThat(rx.takeUsed()).isEmpty();
      long b1 = rx.alloc(2048);
      long b2 = rx.alloc(2048);
      int h1 = rx.addChain(out(b1, 2048));
      int h2 = rx.addChain(out(b2, 2048));
      h.mmio.notify(VirtioNet.RX);
      assertThat(rx.takeUsed()).containsExactly(new Used(h1, 100), new Used(h2, 80));
      byte[] got = rx.read(b1, 100);
      assertThat(got[10]).isEqualTo((byte) 1); // num_buffers
      assertThat(got[99]).isEqualTo((byte) 1);
      assertThat(rx.read(b2, 80)[79]).isEqualTo((byte) 2);
      assertThat(h.interrupts.get()).isPositive();
    }
  }

  @Test
  void frameTooBigForTheBufferIsDroppedAndTheBufferReturnedEmpty() {
    try (DeviceHarness h = new DeviceHarness(net(), 16).start()) {
      VirtioNet dev = (VirtioNet) h.transport.device();
      MockDriver rx = h.queue(VirtioNet.RX);
      int small = rx.addChain(out(rx.alloc(50), 50));
      int readable = rx.addChain(in(rx.alloc(200), 200));
      int fine = rx.addChain(out(rx.alloc(200), 200));
      tap.inbound.add(frame(100, 1));
      tap.inbound.add(frame(100, 2));
      tap.inbound.add(new byte[5]); // runt: dropped without using a buffer
      tap.inbound.add(frame(100, 3));
      dev.onBackendReadable();
      assertThat(rx.takeUsed())
          .containsExactly(new Used(small, 0), new Used(readable, 0), new Used(fine, 100));
      assertThat(dev.counters().rxDropped()).isEqualTo(3);
    }
  }

  @Test
  void rxAndTxHaveSeparateRateLimiters() {
    RateLimiterConfig oneOpPerSecond =
        new RateLimiterConfig(TokenBucketConfig.DISABLED, new TokenBucketConfig(1, 0, 1000));
    try (DeviceHarness h =
        new DeviceHarness(net(oneOpPerSecond, RateLimiterConfig.UNLIMITED), 16).start()) {
      VirtioNet dev = (VirtioNet) h.transport.device();
      MockDriver rx = h.queue(VirtioNet.RX);
      MockDriver tx = h.queue(VirtioNet.TX);
      rx.addChain(out(rx.alloc(200), 200));
      rx.addChain(out(rx.alloc(200), 200));
      tap.inbound.add(frame(100, 1));
      tap.inbound.add(frame(100, 2));
      dev.onBackendReadable();
      assertThat(rx.takeUsed()).hasSize(1);
      // TX is not limited by the RX limiter.
      long hdr = tx.alloc(100);
      for (int i = 0; i < 3; i++) {
        tx.addChain(in(hdr, 100));
      }
      h.mmio.notify(VirtioNet.TX);
      assertThat(tap.outbound).hasSize(3);
      FakeRefillTimer rxTimer = timers.timers.get(0);
      assertThat(rxTimer.armed()).isTrue();
      clock.advanceMillis(1000);
      rxTimer.fire();
      assertThat(rx.takeUsed()).hasSize(1);
      assertThat(dev.counters().rxFrames()).isEqualTo(2);
    }
  }

  @Test
  void macAddressParsesAndPrints() {
    assertThat(MAC.toString()).isEqualTo("02:00:00:ab:cd:ef");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> MacAddress.parse("02:00"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
