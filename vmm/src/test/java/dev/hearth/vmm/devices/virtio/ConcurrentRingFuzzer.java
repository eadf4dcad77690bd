package dev.hearth.vmm.devices.virtio;

import dev.hearth.vmm.devices.virtio.queue.MockDriver;
import dev.hearth.vmm.devices.virtio.queue.MockDriver.Buf;
import dev.hearth.vmm.memory.GuestAddress;
import java.util.List;
import java.util.Random;

/**
 * A guest that rewrites its rings while the device reads them: one thread keeps scribbling random
 * bytes over a queue's descriptor table, available ring and buffers while the device serves chains
 * made from a template, as a hostile guest's second vCPU could. Checks that the device never
 * throws, never writes outside guest memory, and either serves chains or marks itself
 * DEVICE_NEEDS_RESET (then it is reset and brought up again). Seeded, though the interleaving is
 * not reproducible.
 */
public final class ConcurrentRingFuzzer {
  /** What a run did: chains offered, chains used, device resets, time. */
  public record Stats(long chains, long used, long resets, long nanos) {
    @Override
    public String toString() {
      return String.format(
          "%,d chains in %.1f s (%,d chains/s) with rings rewritten concurrently: used %,d,"
              + " resets %,d",
          chains, nanos / 1e9, nanos == 0 ? 0 : chains * 1_000_000_000L / nanos, used, resets);
    }
  }

  private static final int DATA_SPAN = 16 * 1024;

  private final DeviceHarness h;
  private final long seed;
  private final Random r;

  public ConcurrentRingFuzzer(DeviceHarness h, long seed) {
    this.h = h;
    this.seed = seed;
    this.r = new Random(seed);
  }

  /** Offers {@code iterations} chains on {@code queue} while another thread rewrites its rings. */
  public Stats run(int queue, int iterations, ChainFuzzer.Template template, Runnable between)
      throws InterruptedException {
    MockDriver q = h.queue(queue);
    long dataStart = q.dataStart();
    VirtioDevice dev = h.transport.device();
    Scribbler scribbler = new Scribbler(q, dataStart, seed ^ 0x5C1B);
    Thread t = Thread.ofPlatform().name("scribbler").start(scribbler);
    long started = System.nanoTime();
    long used = 0;
    long resets = 0;
    try {
      for (int it = 0; it < iterations; it++) {
        between.run();
        q.freeAllBuffers(dataStart);
        List<Buf> bufs = template.chain(r, q);
        if (q.pending() + bufs.size() < q.size()) {
          q.addChain(bufs.toArray(Buf[]::new));
        }
        try {
          synchronized (dev) {
            dev.queueNotified(queue);
          }
        } catch (RuntimeException e) {
          throw new AssertionError("seed " + seed + " iteration " + it + ": device threw", e);
        }
        used += q.takeUsed().size();
        // A device that broke, or a ring the scribbler jammed (heads it will never see again).
        if (h.needsReset() || q.pending() > q.size() / 2) {
          resets++;
          restart();
        }
      }
    } finally {
      scribbler.stop = true;
      t.join();
    }
    if (!h.fake.canariesIntact()) {
      throw new AssertionError("seed " + seed + ": host memory beside guest memory was written");
    }
    return new Stats(iterations, used, resets, System.nanoTime() - started);
  }

  private void restart() {
    h.mmio.status(0);
    for (MockDriver d : h.queues) {
      d.reset();
    }
    h.start(h.features);
  }

  /** Rewrites random bytes of one queue's rings and buffers until stopped. */
  private static final class Scribbler implements Runnable {
    private final MockDriver q;
    private final long dataStart;
    private final Random r;
    volatile boolean stop;

    Scribbler(MockDriver q, long dataStart, long seed) {
      this.q = q;
      this.dataStart = dataStart;
      this.r = new Random(seed);
    }

    @Override
    public void run() {
      byte[] junk = new byte[16];
      while (!stop) {
        long base;
        int span;
        switch (r.nextInt(3)) {
          case 0 -> {
            base = q.descTable();
            span = 16 * q.size();
          }
          case 1 -> {
            base = q.availRing();
            span = 6 + 2 * q.size();
          }
          default -> {
            base = dataStart;
            span = DATA_SPAN;
          }
        }
        int n = 1 + r.nextInt(junk.length);
        r.nextBytes(junk);
        q.memory().write(GuestAddress.of(base + r.nextInt(span - n + 1)), junk, 0, n);
        if (r.nextInt(64) == 0) {
          Thread.onSpinWait();
        }
      }
    }
  }
}
