package dev.hearth.vmm.devices.virtio.mmio;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hearth.vmm.devices.virtio.DeviceContext;
import dev.hearth.vmm.devices.virtio.DeviceStatus;
import dev.hearth.vmm.devices.virtio.VirtioDevice;
import dev.hearth.vmm.devices.virtio.VirtioFeatures;
import dev.hearth.vmm.devices.virtio.queue.DescriptorChain;
import dev.hearth.vmm.devices.virtio.queue.FakeGuestMemory;
import dev.hearth.vmm.devices.virtio.queue.MockDriver;
import dev.hearth.vmm.devices.virtio.queue.VirtqueueException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MmioTransportTest {
  private static final long DEVICE_FEATURE = VirtioFeatures.bit(5);
  private static final long ALL = ~0L;

  private final FakeGuestMemory fake = new FakeGuestMemory(1 << 20);
  private final AtomicInteger irqs = new AtomicInteger();
  private final EchoDevice dev = new EchoDevice();
  private final MmioTransport transport =
      new MmioTransport(dev, fake.memory(), irqs::incrementAndGet);
  private final MmioDriver mmio = new MmioDriver(transport);
  private final MockDriver q0 = new MockDriver(fake.memory(), 8, 0x10000, 0x10000);

  @AfterEach
  void close() {
    fake.close();
  }

  /** Returns each chain with as many bytes "written" as it had readable; counts calls. */
  static class EchoDevice implements VirtioDevice {
    DeviceContext ctx;
    int resets;
    final List<String> log = new ArrayList<>();
    byte[] config = {1, 2, 3, 4, 5, 6, 7, 8};

    @Override
    public int deviceType() {
      return 42;
    }

    @Override
    public long deviceFeatures() {
      return DEVICE_FEATURE;
    }

    @Override
    public int[] queueMaxSizes() {
      return new int[] {16};
    }

    @Override
    public int configSize() {
      return config.length;
    }

    @Override
    public void readConfig(int offset, byte[] data) {
      System.arraycopy(config, offset, data, 0, data.length);
    }

    @Override
    public void writeConfig(int offset, byte[] data) {
      log.add("config@" + offset);
    }

    @Override
    public void activate(DeviceContext context) {
      ctx = context;
      log.add("activate features=" + Long.toHexString(context.features()));
    }

    @Override
    public void queueNotified(int index) {
      try {
        DescriptorChain c;
        while ((c = ctx.queue(index).pop()) != null) {
          ctx.queue(index).addUsed(c.head(), c.readableBytes());
        }
        ctx.signalUsed(index);
      } catch (VirtqueueException e) {
        ctx.markBroken(e.getMessage());
      }
    }

    @Override
    public void reset() {
      resets++;
      ctx = null;
    }
  }

  @Test
  void identifiesItselfAsVersion2() {
    assertThat(mmio.read32(0)).isEqualTo(0x74726976);
    assertThat(mmio.read32(4)).isEqualTo(2);
    assertThat(mmio.read32(8)).isEqualTo(42);
    assertThat(mmio.read32(0x34)).isEqualTo(16);
    mmio.write32(0x30, 1);
    assertThat(mmio.read32(0x34)).isZero();
  }

  @Test
  void offersDeviceAndRingFeaturesIncludingVersion1() {
    long f = mmio.deviceFeatures();
    assertThat(f & DEVICE_FEATURE).isNotZero();
    assertThat(VirtioFeatures.has(f, VirtioFeatures.VERSION_1)).isTrue();
    assertThat(VirtioFeatures.has(f, VirtioFeatures.RING_EVENT_IDX)).isTrue();
    assertThat(VirtioFeatures.has(f, VirtioFeatures.RING_INDIRECT_DESC)).isTrue();
  }

  @Test
  void fullBringUpActivatesAndServesNotifies() {
    long f = mmio.bringUp(ALL, List.of(q0));
    assertThat(mmio.status()).isEqualTo(15);
    assertThat(dev.log).containsExactly("activate features=" + Long.toHexString(f));
    long buf = q0.alloc(5);
    int head = q0.addChain(MockDriver.Buf.in(buf, 5));
    mmio.notify(0);
    assertThat(q0.takeUsed()).containsExactly(new MockDriver.Used(head, 5));
    assertThat(irqs.get()).isEqualTo(1);
    assertThat(mmio.ackInterrupts()).isEqualTo(1);
    assertThat(mmio.read32(0x60)).isZero();
  }

  @Test
  void refusesFeaturesOkWithoutVersion1OrWithUnofferedFeatures() {
    mmio.status(DeviceStatus.ACKNOWLEDGE);
    mmio.status(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER);
    mmio.driverFeatures(DEVICE_FEATURE);
    mmio.status(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK);
    assertThat(mmio.status() & DeviceStatus.FEATURES_OK).isZero();
    mmio.driverFeatures(VirtioFeatures.bit(VirtioFeatures.VERSION_1) | VirtioFeatures.bit(40));
    mmio.status(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK);
    assertThat(mmio.status() & DeviceStatus.FEATURES_OK).isZero();
    mmio.driverFeatures(VirtioFeatures.bit(VirtioFeatures.VERSION_1));
    mmio.status(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK);
    assertThat(mmio.status() & DeviceStatus.FEATURES_OK).isNotZero();
    // Features are frozen after FEATURES_OK.
    mmio.driverFeatures(0);
    mmio.setUpQueue(0, q0);
    mmio.status(15);
    assertThat(dev.ctx.features()).isEqualTo(VirtioFeatures.bit(VirtioFeatures.VERSION_1));
  }

  @Test
  void ignoresOutOfOrderStatusWritesAndQueueWritesOutsideConfiguration() {
    mmio.status(DeviceStatus.DRIVER_OK);
    assertThat(mmio.status()).isZero();
    mmio.status(DeviceStatus.ACKNOWLEDGE);
    mmio.status(DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER | DeviceStatus.FEATURES_OK);
    assertThat(mmio.status()).isEqualTo(DeviceStatus.ACKNOWLEDGE);
    // Queue registers are ignored before FEATURES_OK.
    mmio.write32(0x38, 4);
    mmio.write32(0x44, 1);
    assertThat(mmio.read32(0x44)).isZero();
    mmio.status(DeviceStatus.ACKNOWLEDGE | DeviceStatus.FAILED);
    assertThat(mmio.status() & DeviceStatus.FAILED).isNotZero();
  }

  @Test
  void resetReturnsEverythingToInitialStateAndResetsTheDevice() {
    mmio.bringUp(ALL, List.of(q0));
    q0.addChain(MockDriver.Buf.in(q0.alloc(1), 1));
    mmio.notify(0);
    mmio.status(0);
    assertThat(dev.resets).isEqualTo(1);
    assertThat(mmio.status()).isZero();
    assertThat(mmio.read32(0x60)).isZero();
    assertThat(mmio.read32(0x44)).isZero();
    // A notify after reset reaches nothing.
    mmio.notify(0);
    assertThat(dev.ctx).isNull();
  }

  @Test
  void badRingsAtDriverOkMarkTheDeviceNeedsReset() {
    MockDriver outside = new MockDriver(fake.memory(), 8, (1 << 20) - 64, 0);
    mmio.bringUp(ALL, List.of(outside));
    assertThat(mmio.status() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();
    assertThat(mmio.read32(0x60) & 2).isEqualTo(2);
    assertThat(dev.ctx).isNull();
  }

  @Test
  void brokenQueueAtRuntimeSetsNeedsResetAndStopsDelivery() {
    mmio.bringUp(ALL, List.of(q0));
    q0.setAvailIdx(100);
    mmio.notify(0);
    assertThat(mmio.status() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();
    int gen = mmio.read32(0xfc);
    assertThat(mmio.ackInterrupts()).isEqualTo(2);
    // Recovery: reset and bring up again.
    q0.setAvailIdx(0);
    mmio.bringUp(ALL, List.of(new MockDriver(fake.memory(), 8, 0x30000, 0x1000)));
    assertThat(mmio.status()).isEqualTo(15);
    assertThat(mmio.read32(0xfc)).isEqualTo(gen);
  }

  @Test
  void deviceExceptionsBecomeNeedsResetNotCrashes() {
    VirtioDevice throwing =
        new EchoDevice() {
          @Override
          public void queueNotified(int index) {
            throw new IllegalStateException("bug");
          }
        };
    MmioTransport t = new MmioTransport(throwing, fake.memory(), irqs::incrementAndGet);
    MmioDriver d = new MmioDriver(t);
    d.bringUp(ALL, List.of(q0));
    d.notify(0);
    assertThat(d.status() & DeviceStatus.DEVICE_NEEDS_RESET).isNotZero();
  }

  @Test
  void configSpaceAnyWidthInRangeAllOnesBeyond() {
    assertThat(mmio.config(0, 8)).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
    byte[] four = new byte[4];
    transport.read(0x100 + 6, four);
    assertThat(four).containsExactly(-1, -1, -1, -1);
    transport.write(0x100 + 2, new byte[2]);
    transport.write(0x100 + 7, new byte[2]);
    assertThat(dev.log).containsExactly("config@2");
  }

  @Test
  void configChangeBumpsGenerationAndInterrupts() {
    mmio.bringUp(ALL, List.of(q0));
    int gen = mmio.read32(0xfc);
    dev.ctx.signalConfigChange();
    assertThat(mmio.read32(0xfc)).isEqualTo(gen + 1);
    assertThat(mmio.ackInterrupts()).isEqualTo(2);
  }

  @Test
  void unalignedOrNarrowRegisterAccessesReadAllOnesAndAreIgnored() {
    byte[] two = new byte[2];
    transport.read(0, two);
    assertThat(two).containsExactly(-1, -1);
    transport.write(0x70, new byte[] {1, 0});
    assertThat(mmio.status()).isZero();
    assertThat(mmio.read32(0x200)).isEqualTo(-1);
  }

  @Test
  void kernelCmdlineToken() {
    assertThat(VirtioMmio.kernelCmdlineToken(0x1000, 0xd0000000L, 5))
        .isEqualTo("virtio_mmio.device=4K@0xd0000000:5");
    assertThat(VirtioMmio.kernelCmdlineToken(100, 0x1000, 12))
        .isEqualTo("virtio_mmio.device=100@0x1000:12");
  }
}
