package dev.hearth.vmm.bench;

import dev.hearth.vmm.devices.virtio.DeviceHarness;
import dev.hearth.vmm.devices.virtio.net.MacAddress;
import dev.hearth.vmm.devices.virtio.net.NetBackend;
import dev.hearth.vmm.devices.virtio.net.NetConfig;
import dev.hearth.vmm.devices.virtio.net.VirtioNet;
import dev.hearth.vmm.devices.virtio.queue.MockDriver;
import dev.hearth.vmm.devices.virtio.queue.MockDriver.Buf;
import dev.hearth.vmm.ratelimit.Clock;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;

/**
 * virtio-net's host-side paths against plain Java loops of the same frame sizes, alternating in
 * short rounds. A pipe stands in for the tap (there is no tap without the {@code sys} package and
 * root): TX frames go into it and a drain thread discards them; for RX a pump thread keeps it full
 * and every frame is one fixed-size read. Baselines: writing the same buffers to the pipe, and
 * reading the same sizes from it into a heap buffer. The device figures include the mock driver.
 *
 * <p>Run: {@code java -cp vmm/target/classes:vmm/target/test-classes
 * dev.hearth.vmm.bench.NetPathBench}
 */
public final class NetPathBench {
  private static final long ROUND_NANOS = 300_000_000L;
  private static final int ROUNDS = 6;
  private static final int BATCH = 64;

  /** A pipe as a tap: fixed-size frames, header included. */
  static final class PipeBackend implements NetBackend {
    final Pipe.SinkChannel sink;
    final Pipe.SourceChannel source;
    final int frame;

    PipeBackend(Pipe.SinkChannel sink, Pipe.SourceChannel source, int frame) {
      this.sink = sink;
      this.source = source;
      this.frame = frame;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      if (source == null) {
        return 0;
      }
      dst.limit(dst.position() + frame);
      while (dst.hasRemaining()) {
        source.read(dst);
      }
      return frame;
    }

    @Override
    public void write(ByteBuffer[] f) throws IOException {
      long left = 0;
      for (ByteBuffer b : f) {
        left += b.remaining();
      }
      while (left > 0) {
        left -= sink.write(f);
      }
    }

    @Override
    public long offloadFeatures() {
      return 0;
    }

    @Override
    public void setOffloads(int tunFlags) {}

    @Override
    public void close() {}
  }

  public static void main(String[] args) throws Exception {
    for (int size : new int[] {64, 1514, VirtioNet.MAX_FRAME}) {
      tx(size);
    }
    for (int size : new int[] {64, 1514, VirtioNet.MAX_FRAME}) {
      rx(size);
    }
    System.exit(0);
  }

  private static Thread daemon(Runnable r) {
    Thread t = new Thread(r);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static VirtioNet net(NetBackend backend) {
    return new VirtioNet(
        backend,
        new NetConfig(
            "bench",
            MacAddress.parse("02:00:00:00:00:02"),
            RateLimiterConfig.UNLIMITED,
            RateLimiterConfig.UNLIMITED),
        Clock.SYSTEM,
        new LoopTimers(null));
  }

  private static void tx(int size) throws Exception {
    Pipe pipe = Pipe.open();
    daemon(
        () -> {
          ByteBuffer sinkBuf = ByteBuffer.allocateDirect(1 << 20);
          try {
            while (pipe.source().read(sinkBuf.clear()) >= 0) {}
          } catch (IOException e) {
            // pipe closed
          }
        });
    VirtioNet net = net(new PipeBackend(pipe.sink(), null, size));
    try (DeviceHarness h = new DeviceHarness(net, 256, 16L << 20, 8L << 20).start()) {
      MockDriver q = h.queue(1);
      long frame = q.alloc(size);
      ByteBuffer plain = ByteBuffer.allocateDirect(size);
      Round device =
          () -> {
            for (int i = 0; i < BATCH; i++) {
              q.addChain(Buf.in(frame, size));
            }
            h.transport.queueNotify(1);
            if (q.takeUsed().size() != BATCH) {
              throw new IllegalStateException("TX chains not all used");
            }
          };
      Round baseline =
          () -> {
            for (int i = 0; i < BATCH; i++) {
              plain.clear();
              while (plain.hasRemaining()) {
                pipe.sink().write(plain);
              }
            }
          };
      compare("tx", size, device, baseline);
    }
  }

  private static void rx(int size) throws Exception {
    Pipe pipe = Pipe.open();
    daemon(
        () -> {
          ByteBuffer frames = ByteBuffer.allocateDirect(1 << 20);
          try {
            while (true) {
              frames.clear();
              while (frames.hasRemaining()) {
                pipe.sink().write(frames);
              }
            }
          } catch (IOException e) {
            // pipe closed
          }
        });
    VirtioNet net = net(new PipeBackend(null, pipe.source(), size));
    try (DeviceHarness h = new DeviceHarness(net, 256, 16L << 20, 8L << 20).start()) {
      MockDriver q = h.queue(0);
      long[] bufs = new long[BATCH];
      for (int i = 0; i < BATCH; i++) {
        bufs[i] = q.allocUninitialised(size);
      }
      ByteBuffer plain = ByteBuffer.allocate(VirtioNet.MAX_FRAME);
      PipeBackend reader = new PipeBackend(null, pipe.source(), size);
      Round device =
          () -> {
            for (int i = 0; i < BATCH; i++) {
              q.addChain(Buf.out(bufs[i], size));
            }
            net.onBackendReadable();
            if (q.takeUsed().size() != BATCH) {
              throw new IllegalStateException("RX chains not all used");
            }
          };
      Round baseline =
          () -> {
            for (int i = 0; i < BATCH; i++) {
              reader.read(plain.clear());
            }
          };
      compare("rx", size, device, baseline);
    }
  }

  interface Round {
    void run() throws Exception;
  }

  private static double[] measure(Round r, long nanos) throws Exception {
    long frames = 0;
    long start = System.nanoTime();
    long end = start;
    while (end - start < nanos) {
      r.run();
      frames += BATCH;
      end = System.nanoTime();
    }
    return new double[] {frames, (end - start) / 1e9};
  }

  private static void compare(String dir, int size, Round device, Round baseline) throws Exception {
    measure(device, 4 * ROUND_NANOS);
    measure(baseline, 2 * ROUND_NANOS);
    double[] d = new double[2];
    double[] b = new double[2];
    for (int i = 0; i < ROUNDS; i++) {
      double[] x = measure(device, ROUND_NANOS);
      d[0] += x[0];
      d[1] += x[1];
      double[] y = measure(baseline, ROUND_NANOS);
      b[0] += y[0];
      b[1] += y[1];
    }
    double df = d[0] / d[1];
    double bf = b[0] / b[1];
    System.out.printf(
        "virtio-net %s %6d B: device %,9.0f frames/s %8.1f MB/s | pipe loop %,9.0f frames/s %8.1f MB/s | ratio %.2f%n",
        dir, size, df, df * size / 1e6, bf, bf * size / 1e6, df / bf);
  }
}
