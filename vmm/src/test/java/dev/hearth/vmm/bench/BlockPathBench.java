package dev.hearth.vmm.bench;

import dev.hearth.vmm.devices.virtio.DeviceHarness;
import dev.hearth.vmm.devices.virtio.block.FileBlockBackend;
import dev.hearth.vmm.devices.virtio.block.VirtioBlock;
import dev.hearth.vmm.devices.virtio.queue.MockDriver;
import dev.hearth.vmm.devices.virtio.queue.MockDriver.Buf;
import dev.hearth.vmm.ratelimit.Clock;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * virtio-blk's host-side path (a mock driver posts requests on guest memory, the device serves them
 * from a file) against a plain FileChannel loop of the same sizes and offsets. The two alternate in
 * short rounds so that load from other processes hits both alike. Prints requests/s, MB/s and the
 * ratio device/baseline ({@code RESULT virtio-blk <read|write> <bytes> <device req/s> <device MB/s>
 * <baseline req/s> <baseline MB/s> <ratio>}). The device figure includes the mock driver's work.
 *
 * <p>Run: {@code java -cp vmm/target/classes:vmm/target/test-classes
 * dev.hearth.vmm.bench.BlockPathBench}
 */
public final class BlockPathBench {
  private static final long FILE_BYTES = 64L << 20;
  private static final long ROUND_NANOS = 300_000_000L;
  private static final int ROUNDS = 6;
  private static final int BATCH = 64;

  public static void main(String[] args) throws Exception {
    Path img = Files.createTempFile("hearth-blk-bench", ".img");
    System.out.printf(
        "virtio-blk bench: %d MiB file %s, %d rounds of %d ms each way after warm-up, batches of"
            + " %d%n",
        FILE_BYTES >> 20, img, ROUNDS, ROUND_NANOS / 1_000_000, BATCH);
    try {
      try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
        ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
        for (long at = 0; at < FILE_BYTES; at += chunk.capacity()) {
          ch.write(chunk.clear(), at);
        }
      }
      // A first pass of warm-ups only, so that the JIT has compiled every path before any figure
      // counts (the first case measured would otherwise pay for it).
      for (boolean report : new boolean[] {false, true}) {
        for (boolean write : new boolean[] {false, true}) {
          for (int size : new int[] {4096, 65536}) {
            run(img, write, size, report);
          }
        }
      }
    } finally {
      Files.delete(img);
    }
  }

  private static void run(Path img, boolean write, int size, boolean report) throws Exception {
    try (Device dev = new Device(img, write, size);
        FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.allocateDirect(size);
      dev.measure(4 * ROUND_NANOS); // warm-up, JIT included
      baseline(ch, buf, write, size, 2 * ROUND_NANOS);
      if (!report) {
        return;
      }
      double[] d = new double[2];
      double[] b = new double[2];
      for (int r = 0; r < ROUNDS; r++) {
        add(d, dev.measure(ROUND_NANOS));
        add(b, baseline(ch, buf, write, size, ROUND_NANOS));
      }
      // One line per size, as NetPathBench prints it: run-device-bench.sh makes the table.
      System.out.printf(
          "RESULT virtio-blk %s %d %.0f %.1f %.0f %.1f %.3f%n",
          write ? "write" : "read",
          size,
          d[0] / d[1],
          d[0] * size / d[1] / 1e6,
          b[0] / b[1],
          b[0] * size / b[1] / 1e6,
          (d[0] / d[1]) / (b[0] / b[1]));
    }
  }

  private static void add(double[] acc, double[] reqsAndSeconds) {
    acc[0] += reqsAndSeconds[0];
    acc[1] += reqsAndSeconds[1];
  }

  private static long offset(long i, int size) {
    return (i * size) % (FILE_BYTES - size);
  }

  /** A virtio-blk device over the image with a mock driver and one batch of buffers. */
  private static final class Device implements AutoCloseable {
    final DeviceHarness h;
    final MockDriver q;
    final boolean write;
    final int size;
    final long[] headers = new long[BATCH];
    final long[] data = new long[BATCH];
    final long[] status = new long[BATCH];
    final ByteBuffer hdr = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    long requests;

    Device(Path img, boolean write, int size) throws Exception {
      VirtioBlock blk =
          new VirtioBlock(
              FileBlockBackend.open(img, false),
              false,
              "bench",
              RateLimiterConfig.UNLIMITED,
              Clock.SYSTEM,
              new LoopTimers(null));
      this.h = new DeviceHarness(blk, 256, 16L << 20, 8L << 20).start();
      this.q = h.queue(0);
      this.write = write;
      this.size = size;
      for (int i = 0; i < BATCH; i++) {
        headers[i] = q.alloc(16);
        data[i] = q.allocUninitialised(size);
        status[i] = q.alloc(1);
      }
    }

    /** Returns {requests, seconds}. */
    double[] measure(long nanos) {
      long done = 0;
      long start = System.nanoTime();
      long end = start;
      while (end - start < nanos) {
        for (int i = 0; i < BATCH; i++) {
          hdr.putInt(0, write ? 1 : 0).putLong(8, offset(requests + i, size) / 512);
          q.write(headers[i], hdr.array());
          q.addChain(
              Buf.in(headers[i], 16),
              write ? Buf.in(data[i], size) : Buf.out(data[i], size),
              Buf.out(status[i], 1));
        }
        h.transport.queueNotify(0);
        int used = q.takeUsed().size();
        if (used != BATCH) {
          throw new IllegalStateException("device used " + used + " of " + BATCH);
        }
        requests += BATCH;
        done += BATCH;
        end = System.nanoTime();
      }
      return new double[] {done, (end - start) / 1e9};
    }

    @Override
    public void close() {
      h.close();
    }
  }

  private static long baseRequests;

  private static double[] baseline(
      FileChannel ch, ByteBuffer buf, boolean write, int size, long nanos) throws Exception {
    long done = 0;
    long start = System.nanoTime();
    long end = start;
    while (end - start < nanos) {
      for (int i = 0; i < BATCH; i++) {
        buf.clear();
        long at = offset(baseRequests + i, size);
        while (buf.hasRemaining()) {
          int n = write ? ch.write(buf, at + buf.position()) : ch.read(buf, at + buf.position());
          if (n < 0) {
            throw new IllegalStateException("EOF");
          }
        }
      }
      baseRequests += BATCH;
      done += BATCH;
      end = System.nanoTime();
    }
    return new double[] {done, (end - start) / 1e9};
  }
}
