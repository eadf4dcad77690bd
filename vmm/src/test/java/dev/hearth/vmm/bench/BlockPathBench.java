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
 * short rounds, summarised by medians ({@link PairedRounds}). Prints requests/s, MB/s and the ratio
 * device/baseline ({@code RESULT virtio-blk <read|write> <bytes> <device req/s> <device MB/s>
 * <baseline req/s> <baseline MB/s> <ratio>}). The device figure includes the mock driver's work.
 *
 * <p>Run: {@code java -cp vmm/target/classes:vmm/target/test-classes
 * dev.hearth.vmm.bench.BlockPathBench}
 */
public final class BlockPathBench {
  private static final long FILE_BYTES = 64L << 20;
  private static final long ROUND_NANOS = 200_000_000L;
  private static final int ROUNDS = 10;
  private static final int BATCH = 64;

  public static void main(String[] args) throws Exception {
    // On tmpfs where there is one: a disk's writeback would throttle the writes of both sides
    // by turns and measure the disk, not the device's path.
    Path shm = Path.of("/dev/shm");
    Path img =
        Files.isDirectory(shm) && Files.isWritable(shm)
            ? Files.createTempFile(shm, "hearth-blk-bench", ".img")
            : Files.createTempFile("hearth-blk-bench", ".img");
    System.out.printf(
        "virtio-blk bench: %d MiB file %s, medians of %d rounds of %d ms each way after warm-up,"
            + " batches of %d%n",
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
      // Writeback of what earlier cases wrote would slow this case down, whichever side it hit.
      ch.force(false);
      ByteBuffer buf = ByteBuffer.allocateDirect(size);
      PairedRounds rounds = new PairedRounds(ROUNDS, ROUND_NANOS);
      PairedRounds.Batch baseline = () -> baseline(ch, buf, write, size);
      if (!report) {
        rounds.warmUp(null, dev::batch, baseline);
        return;
      }
      PairedRounds.Summary r = rounds.compare(null, dev::batch, baseline);
      // One line per size, as NetPathBench prints it: run-device-bench.sh makes the table.
      System.out.printf(
          "RESULT virtio-blk %s %d %.0f %.1f %.0f %.1f %.3f%n",
          write ? "write" : "read",
          size,
          r.devicePerSecond(),
          r.devicePerSecond() * size / 1e6,
          r.baselinePerSecond(),
          r.baselinePerSecond() * size / 1e6,
          r.ratio());
    }
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

    /** Posts BATCH requests, notifies once and checks that all were served. */
    long batch() {
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
      return BATCH;
    }

    @Override
    public void close() {
      h.close();
    }
  }

  private static long baseRequests;

  /** BATCH requests of {@code size} bytes at the offsets the device gets, by FileChannel. */
  private static long baseline(FileChannel ch, ByteBuffer buf, boolean write, int size)
      throws Exception {
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
    return BATCH;
  }
}
