package dev.hearth.vmm.devices.virtio;

import static dev.hearth.vmm.devices.virtio.queue.MockDriver.Buf.out;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hearth.vmm.devices.virtio.mmio.MmioTransport;
import dev.hearth.vmm.devices.virtio.mmio.MmioTransportState;
import dev.hearth.vmm.devices.virtio.queue.MockDriver;
import dev.hearth.vmm.devices.virtio.queue.MockDriver.Used;
import dev.hearth.vmm.devices.virtio.rng.VirtioRng;
import dev.hearth.vmm.devices.virtio.vsock.VirtioVsock;
import dev.hearth.vmm.devices.virtio.vsock.VsockConfig;
import dev.hearth.vmm.devices.virtio.vsock.VsockState;
import dev.hearth.vmm.ratelimit.FakeClock;
import dev.hearth.vmm.ratelimit.FakeRefillTimer;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import dev.hearth.vmm.ratelimit.TokenBucketConfig;
import dev.hearth.vmm.snapshot.SnapshotException;
import dev.hearth.vmm.snapshot.StateCodec;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A device's twin, given the saved device and transport state over the same guest memory, goes on
 * where the original stopped: the same ring positions, the same limiter budget, and for vsock a
 * transport-reset event.
 */
class RestoredDeviceTest {
  private final FakeClock clock = new FakeClock();
  private final FakeRefillTimer.Factory timers = new FakeRefillTimer.Factory();
  @TempDir Path dir;

  private VirtioRng rng(RateLimiterConfig limit) {
    return new VirtioRng(b -> Arrays.fill(b, (byte) 9), limit, clock, timers);
  }

  /** Saves and decodes, as a snapshot would, so the records go through the codec too. */
  private static <R extends Record> R roundTrip(R state, Class<R> type) {
    return StateCodec.decode(StateCodec.encode(state), type);
  }

  @Test
  void aRestoredRngServesTheNextChainAtTheSameRingPositionWithTheBudgetLeft() {
    // 3 requests of 8 bytes in the ops bucket, never refilled while the test runs.
    RateLimiterConfig limit =
        new RateLimiterConfig(TokenBucketConfig.DISABLED, new TokenBucketConfig(3, 0, 3_600_000));
    VirtioRng original = rng(limit);
    try (DeviceHarness h = new DeviceHarness(original, 16).start()) {
      MockDriver q = h.queue(0);
      for (int i = 0; i < 2; i++) {
        q.addChain(out(q.alloc(8), 8));
        h.mmio.notify(0);
      }
      assertThat(q.takeUsed()).hasSize(2);
      RequestQueueState device = roundTrip(original.saveState(), RequestQueueState.class);
      MmioTransportState transport = roundTrip(h.transport.saveState(), MmioTransportState.class);
      assertThat(transport.activated()).isTrue();
      assertThat(transport.queues().getFirst().nextUsed()).isEqualTo(2);

      VirtioRng twin = rng(limit);
      MmioTransport restored = new MmioTransport(twin, h.fake.memory(), () -> {});
      twin.restoreState(device);
      restored.restoreState(transport);

      long a = q.alloc(8);
      int head = q.addChain(out(a, 8));
      restored.queueNotify(0);
      assertThat(q.takeUsed()).containsExactly(new Used(head, 8));
      assertThat(q.read(a, 8)).containsOnly(9);
      // The budget came along: a fourth request waits, where a fresh limiter would serve it.
      q.addChain(out(q.alloc(8), 8));
      restored.queueNotify(0);
      assertThat(q.takeUsed()).isEmpty();
      assertThat(restored.saveState().queues().getFirst().nextUsed()).isEqualTo(3);
    }
  }

  @Test
  void aRestoredVsockTellsTheGuestItsConnectionsWereReset() throws Exception {
    VsockConfig config = new VsockConfig(3, dir.resolve("v.sock"));
    VirtioVsock original = new VirtioVsock(config);
    try (DeviceHarness h = new DeviceHarness(original, 16).start()) {
      MockDriver events = h.queue(2);
      long buf = events.alloc(8);
      int head = events.addChain(out(buf, 8));
      VsockState device = original.saveState();
      MmioTransportState transport = h.transport.saveState();
      original.close();

      try (VirtioVsock twin = new VirtioVsock(config)) {
        MmioTransport restored = new MmioTransport(twin, h.fake.memory(), () -> {});
        twin.restoreState(device);
        restored.restoreState(transport);
        assertThat(events.takeUsed()).containsExactly(new Used(head, 4));
        // VIRTIO_VSOCK_EVENT_TRANSPORT_RESET is id 0.
        assertThat(events.read(buf, 4)).containsOnly(0);
      }
    }
  }

  @Test
  void aVsockWithAnotherCidRefusesTheState() throws Exception {
    try (VirtioVsock twin = new VirtioVsock(new VsockConfig(4, dir.resolve("w.sock")))) {
      assertThatThrownBy(() -> twin.restoreState(new VsockState(3)))
          .isInstanceOf(SnapshotException.class)
          .hasMessageContaining("guest CID is 3, the restored VM's 4");
    }
  }
}
