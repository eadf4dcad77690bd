package dev.hearth.vmm.devices.virtio;

import dev.hearth.vmm.devices.virtio.mmio.MmioDriver;
import dev.hearth.vmm.devices.virtio.mmio.MmioTransport;
import dev.hearth.vmm.devices.virtio.queue.FakeGuestMemory;
import dev.hearth.vmm.devices.virtio.queue.MockDriver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A device on an MMIO transport over fake guest memory, with a mock driver per queue: what a guest
 * would see, without KVM. Test-only.
 */
public final class DeviceHarness implements AutoCloseable {
  public static final int MEMORY = 8 << 20;

  public final FakeGuestMemory fake;
  public final AtomicInteger interrupts = new AtomicInteger();
  public final MmioTransport transport;
  public final MmioDriver mmio;
  public final List<MockDriver> queues = new ArrayList<>();
  public long features;

  /** Each queue gets {@code queueSize} entries and 512 KiB of buffer space. */
  public DeviceHarness(VirtioDevice device, int queueSize) {
    this(device, queueSize, MEMORY, 512 * 1024);
  }

  /**
   * A harness with {@code memory} bytes of guest memory and {@code dataBytes} of buffers per queue.
   */
  public DeviceHarness(VirtioDevice device, int queueSize, long memory, long dataBytes) {
    fake = new FakeGuestMemory(memory);
    long spacing = 0x100000L + ((dataBytes + 0xfffff) & ~0xfffffL);
    transport = new MmioTransport(device, fake.memory(), interrupts::incrementAndGet);
    mmio = new MmioDriver(transport);
    for (int i = 0; i < device.queueMaxSizes().length; i++) {
      queues.add(new MockDriver(fake.memory(), queueSize, 0x100000L + i * spacing, dataBytes));
    }
  }

  /** Negotiates every offered feature in {@code want} and activates. */
  public DeviceHarness start(long want) {
    features = mmio.bringUp(want, queues);
    return this;
  }

  public DeviceHarness start() {
    return start(~0L);
  }

  public MockDriver queue(int i) {
    return queues.get(i);
  }

  public boolean needsReset() {
    return (mmio.status() & DeviceStatus.DEVICE_NEEDS_RESET) != 0;
  }

  @Override
  public void close() {
    if (!fake.canariesIntact()) {
      throw new AssertionError("host memory next to guest memory was written");
    }
    fake.close();
  }
}
