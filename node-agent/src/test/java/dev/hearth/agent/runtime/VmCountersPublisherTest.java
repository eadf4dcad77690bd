package dev.hearth.agent.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.agent.metrics.VmMeters;
import dev.hearth.vmm.ratelimit.LimiterId;
import dev.hearth.vmm.ratelimit.RateLimiter;
import dev.hearth.vmm.vm.VmCounters;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VmCountersPublisherTest {
  private final List<String> calls = new ArrayList<>();
  private final VmMeters recording =
      new VmMeters() {
        @Override
        public void vcpuExits(int vcpu, long count) {
          calls.add("exits " + vcpu + " +" + count);
        }

        @Override
        public void blockBytes(String drive, BlockOp op, long bytes) {
          calls.add("block " + drive + " " + op + " +" + bytes);
        }

        @Override
        public void netBytes(String iface, NetDirection direction, long bytes) {
          calls.add("net " + iface + " " + direction + " +" + bytes);
        }

        @Override
        public void throttled(String device, String bucket, long count) {
          calls.add("throttled " + device + " " + bucket + " +" + count);
        }
      };

  private static VmCounters snapshot(long exits0, long read, long rxBytes, long txThrottledOps) {
    return new VmCounters(
        List.of(exits0, 7L),
        Map.of(
            LimiterId.of("rootfs"), new RateLimiter.Counters(1, read, 0, 0),
            LimiterId.rx("eth0"), new RateLimiter.Counters(2, rxBytes, 0, 0),
            LimiterId.tx("eth0"), new RateLimiter.Counters(0, 0, txThrottledOps, 0)),
        Map.of("rootfs", new VmCounters.Drive(read, 0)));
  }

  @Test
  void eachSnapshotAddsOnlyWhatGrewSinceTheLast() {
    VmCountersPublisher publisher = new VmCountersPublisher(recording);

    publisher.publish(snapshot(10, 4096, 1500, 0));
    assertThat(calls)
        .containsExactlyInAnyOrder(
            "exits 0 +10", "exits 1 +7", "block rootfs READ +4096", "net eth0 RX +1500");

    calls.clear();
    publisher.publish(snapshot(15, 4096, 4500, 3));
    assertThat(calls)
        .containsExactlyInAnyOrder("exits 0 +5", "net eth0 RX +3000", "throttled eth0.tx ops +3");

    calls.clear();
    publisher.publish(snapshot(15, 4096, 4500, 3));
    assertThat(calls).isEmpty();
  }
}
