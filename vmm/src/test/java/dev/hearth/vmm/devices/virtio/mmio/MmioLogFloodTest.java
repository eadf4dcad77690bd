package dev.hearth.vmm.devices.virtio.mmio;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.devices.virtio.queue.FakeGuestMemory;
import dev.hearth.vmm.devices.virtio.queue.MockDriver;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** A guest cannot flood the host's log through a device (issue 14, finding 14). */
class MmioLogFloodTest {

  @Test
  void aGuestBreakingItsDeviceInALoopGetsAFewLogLinesNotOneEach() {
    Logger jul = Logger.getLogger(MmioTransport.class.getName());
    AtomicInteger records = new AtomicInteger();
    Handler count =
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            records.incrementAndGet();
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    jul.addHandler(count);
    boolean parents = jul.getUseParentHandlers();
    jul.setUseParentHandlers(false); // keep 10,000 warnings off the test report if it fails
    try (FakeGuestMemory fake = new FakeGuestMemory(1 << 20)) {
      MmioTransport transport =
          new MmioTransport(new MmioTransportTest.EchoDevice(), fake.memory(), () -> {});
      MmioDriver mmio = new MmioDriver(transport);
      MockDriver q = new MockDriver(fake.memory(), 8, 0x10000, 0x10000);
      for (int i = 0; i < 10_000; i++) {
        mmio.bringUp(~0L, List.of(q));
        q.setAvailIdx(q.availIdx() + 100); // more chains than the ring holds: the queue is broken
        mmio.notify(0);
        mmio.status(0);
        q.reset();
      }
      assertThat(records.get()).as("log records for 10,000 broken devices").isLessThan(50);
    } finally {
      jul.removeHandler(count);
      jul.setUseParentHandlers(parents);
    }
  }
}
