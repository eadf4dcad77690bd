package dev.hearth.vmm.devices.virtio.block;

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
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VirtioBlockTest {
  @TempDir Path dir;
  private final FakeClock clock = new FakeClock();
  private final FakeRefillTimer.Factory timers = new FakeRefillTimer.Factory();

  private Path image(int sectors) throws IOException {
    byte[] data = new byte[sectors * 512];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i / 512);
    }
    Path p = dir.resolve("disk.img");
    Files.write(p, data);
    return p;
  }

  private VirtioBlock block(Path p, boolean ro, RateLimiterConfig limit) throws IOException {
    return VirtioBlock.open(new BlockConfig(p, ro, "hearth-disk-0", limit), clock, timers);
  }

  /** Guest addresses of one request's parts. */
  record Req(int head, long header, long data, long status) {}

  static Req request(MockDriver q, int type, long sector, int dataLen, boolean indirect) {
    long header = q.alloc(16);
    ByteBuffer h = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    h.putInt(0, type).putLong(8, sector);
    q.write(header, h.array());
    long data = q.alloc(Math.max(dataLen, 1));
    long status = q.alloc(1);
    q.write(status, new byte[] {(byte) 0xee});
    MockDriver.Buf d = type == VirtioBlock.T_OUT ? in(data, dataLen) : out(data, dataLen);
    MockDriver.Buf[] bufs =
        dataLen == 0
            ? new MockDriver.Buf[] {in(header, 16), out(status, 1)}
            : new MockDriver.Buf[] {in(header, 16), d, out(status, 1)};
    int head = indirect ? q.addIndirectChain(bufs) : q.addChain(bufs);
    return new Req(head, header, data, status);
  }

  static byte status(MockDriver q, Req r) {
    return q.read(r.status, 1)[0];
  }

  @Test
  void advertisesCapacityAndFeatures() throws IOException {
    try (DeviceHarness h =
        new DeviceHarness(block(image(8), true, RateLimiterConfig.UNLIMITED), 16)) {
      byte[] cap = h.mmio.config(0, 8);
      assertThat(ByteBuffer.wrap(cap).order(ByteOrder.LITTLE_ENDIAN).getLong()).isEqualTo(8);
      long f = h.mmio.deviceFeatures();
      assertThat(VirtioFeatures.has(f, VirtioBlock.F_RO)).isTrue();
      assertThat(VirtioFeatures.has(f, VirtioBlock.F_FLUSH)).isTrue();
    }
  }

  @Test
  void readsWritesFlushesAndReportsId() throws IOException {
    Path img = image(16);
    try (DeviceHarness h =
        new DeviceHarness(block(img, false, RateLimiterConfig.UNLIMITED), 16).start()) {
      MockDriver q = h.queue(0);
      Req read = request(q, VirtioBlock.T_IN, 3, 1024, false);
      Req write = request(q, VirtioBlock.T_OUT, 5, 512, true);
      q.write(write.data, new byte[512]);
      byte[] payload = new byte[512];
      java.util.Arrays.fill(payload, (byte) 0x5a);
      q.write(write.data, payload);
      Req flush = request(q, VirtioBlock.T_FLUSH, 0, 0, false);
      Req id = request(q, VirtioBlock.T_GET_ID, 0, 20, false);
      h.mmio.notify(0);
      assertThat(q.takeUsed())
          .containsExactly(
              new Used(read.head, 1025),
              new Used(write.head, 1),
              new Used(flush.head, 1),
              new Used(id.head, 21));
      byte[] got = q.read(read.data, 1024);
      assertThat(got[0]).isEqualTo((byte) 3);
      assertThat(got[1023]).isEqualTo((byte) 4);
      assertThat(status(q, read)).isZero();
      assertThat(status(q, write)).isZero();
      assertThat(Files.readAllBytes(img)[5 * 512 + 7]).isEqualTo((byte) 0x5a);
      assertThat(status(q, flush)).isZero();
      assertThat(new String(q.read(id.data, 13))).isEqualTo("hearth-disk-0");
      assertThat(q.read(id.data + 13, 7)).containsOnly(0);
    }
  }

  @Test
  void badRequestsGetErrorStatusesAndTheDeviceCarriesOn() throws IOException {
    try (DeviceHarness h =
        new DeviceHarness(block(image(8), true, RateLimiterConfig.UNLIMITED), 32).start()) {
      MockDriver q = h.queue(0);
      Req pastEnd = request(q, VirtioBlock.T_IN, 7, 1024, false);
      Req hugeSector = request(q, VirtioBlock.T_IN, Long.MAX_VALUE / 256, 512, false);
      Req partial = request(q, VirtioBlock.T_IN, 0, 100, false);
      Req readOnlyWrite = request(q, VirtioBlock.T_OUT, 0, 512, false);
      Req unknown = request(q, 77, 0, 0, false);
      long shortHeader = q.alloc(8);
      int noHeader = q.addChain(in(shortHeader, 8), out(q.alloc(1), 1));
      int noStatus = q.addChain(in(q.alloc(16), 16));
      Req ok = request(q, VirtioBlock.T_IN, 7, 512, false);
      h.mmio.notify(0);
      assertThat(q.takeUsed())
          .hasSize(8)
          .contains(new Used(noHeader, 0), new Used(noStatus, 0), new Used(ok.head, 513));
      assertThat(status(q, pastEnd)).isEqualTo(VirtioBlock.S_IOERR);
      assertThat(status(q, hugeSector)).isEqualTo(VirtioBlock.S_IOERR);
      assertThat(status(q, partial)).isEqualTo(VirtioBlock.S_IOERR);
      assertThat(status(q, readOnlyWrite)).isEqualTo(VirtioBlock.S_IOERR);
      assertThat(status(q, unknown)).isEqualTo(VirtioBlock.S_UNSUPP);
      assertThat(status(q, ok)).isEqualTo(VirtioBlock.S_OK);
      assertThat(h.needsReset()).isFalse();
    }
  }

  @Test
  void backendIoErrorFailsOnlyThatRequest() throws IOException {
    BlockBackend failing =
        new BlockBackend() {
          int calls;

          @Override
          public long size() {
            return 4096;
          }

          @Override
          public void read(long position, ByteBuffer[] dst) throws IOException {
            if (calls++ == 0) {
              throw new IOException("EIO (simulated)");
            }
            for (ByteBuffer b : dst) {
              b.put(new byte[b.remaining()]);
            }
          }

          @Override
          public void write(long position, ByteBuffer[] src) {}

          @Override
          public void flush() throws IOException {
            throw new IOException("ENOSPC (simulated)");
          }

          @Override
          public void close() {}
        };
    VirtioBlock dev =
        new VirtioBlock(failing, false, "", RateLimiterConfig.UNLIMITED, clock, timers);
    try (DeviceHarness h = new DeviceHarness(dev, 16).start()) {
      MockDriver q = h.queue(0);
      Req first = request(q, VirtioBlock.T_IN, 0, 512, false);
      Req second = request(q, VirtioBlock.T_IN, 0, 512, false);
      Req flush = request(q, VirtioBlock.T_FLUSH, 0, 0, false);
      h.mmio.notify(0);
      assertThat(q.takeUsed()).hasSize(3);
      assertThat(status(q, first)).isEqualTo(VirtioBlock.S_IOERR);
      assertThat(status(q, second)).isEqualTo(VirtioBlock.S_OK);
      assertThat(status(q, flush)).isEqualTo(VirtioBlock.S_IOERR);
    }
  }

  @Test
  void bandwidthAndOpsLimitsHoldRequestsUntilRefill() throws IOException {
    RateLimiterConfig limit =
        new RateLimiterConfig(
            new TokenBucketConfig(2048, 0, 1000), new TokenBucketConfig(10, 0, 1000));
    try (DeviceHarness h = new DeviceHarness(block(image(64), false, limit), 16).start()) {
      MockDriver q = h.queue(0);
      for (int i = 0; i < 3; i++) {
        request(q, VirtioBlock.T_IN, i, 1024, false);
      }
      h.mmio.notify(0);
      assertThat(q.takeUsed()).hasSize(2);
      FakeRefillTimer timer = timers.timers.get(0);
      assertThat(timer.armed()).isTrue();
      // The refused request gave its op back: 8 ops left.
      assertThat(
              ((VirtioBlock) h.transport.device())
                  .rateLimiter()
                  .available(dev.hearth.vmm.ratelimit.TokenType.OPS))
          .isEqualTo(8);
      clock.advanceNanos(timer.armedDelayNanos());
      timer.fire();
      assertThat(q.takeUsed()).hasSize(1);
    }
  }

  @Test
  void closeClosesTheImageAndLaterRequestsAreIgnored() throws IOException {
    VirtioBlock blk = block(image(8), false, RateLimiterConfig.UNLIMITED);
    try (DeviceHarness h = new DeviceHarness(blk, 16).start()) {
      MockDriver q = h.queue(0);
      blk.close();
      request(q, VirtioBlock.T_IN, 0, 512, false);
      h.mmio.notify(0);
      assertThat(q.takeUsed()).isEmpty();
      assertThat(h.needsReset()).isFalse();
    }
  }
}
