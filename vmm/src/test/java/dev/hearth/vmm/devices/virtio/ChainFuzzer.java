package dev.hearth.vmm.devices.virtio;

import dev.hearth.vmm.devices.virtio.queue.MockDriver;
import dev.hearth.vmm.devices.virtio.queue.MockDriver.Buf;
import dev.hearth.vmm.devices.virtio.queue.MockDriver.Used;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Throws random and mutated descriptor chains at one queue of a device, the way a hostile guest
 * could, and checks after each one that nothing escaped: no exception, no host write outside guest
 * memory, and the chain either came back on the used ring (with a length no larger than the
 * writable space it offered, where that is known) or the device set DEVICE_NEEDS_RESET, which only
 * queue-level corruption may cause. Seeded, so a failure reproduces.
 */
public final class ChainFuzzer {
  static final int F_NEXT = 1;
  static final int F_WRITE = 2;
  static final int F_INDIRECT = 4;

  /** Builds a plausible request for the device, allocating and filling buffers from {@code q}. */
  @FunctionalInterface
  public interface Template {
    List<Buf> chain(Random r, MockDriver q);
  }

  /**
   * What a run did: chains thrown, chains returned on the used ring (of which with length 0),
   * queue-level corruptions that set DEVICE_NEEDS_RESET, chains that made the device overwrite the
   * guest's own available ring, and the time it took.
   */
  public record Stats(
      long chains, long completed, long zeroLength, long resets, long ringOverwrites, long nanos) {
    /** Chains per second. */
    public long rate() {
      return nanos == 0 ? 0 : chains * 1_000_000_000L / nanos;
    }

    @Override
    public String toString() {
      return String.format(
          "%,d chains in %.1f s (%,d chains/s): completed %,d (zero-length %,d), resets %,d,"
              + " ring overwrites %,d",
          chains, nanos / 1e9, rate(), completed, zeroLength, resets, ringOverwrites);
    }
  }

  /**
   * Chains per device for a fuzz test: {@code normal} in the ordinary build, the {@code
   * hearth.fuzz.chains} system property where set (the {@code fuzz} profile sets 1,000,000).
   */
  public static int chains(int normal) {
    return Integer.getInteger("hearth.fuzz.chains", normal);
  }

  private final DeviceHarness h;
  private final long seed;
  private final Random r;

  public ChainFuzzer(DeviceHarness h, long seed) {
    this.h = h;
    this.seed = seed;
    this.r = new Random(seed);
  }

  /**
   * Runs {@code iterations} chains on queue {@code queue}. {@code mustComplete}: each chain must be
   * used right away (request queues); otherwise only the safety properties are checked. {@code
   * between} runs before each chain (e.g. to feed another queue).
   */
  public Stats run(
      int queue, int iterations, Template template, boolean mustComplete, Runnable between) {
    // Thousands of expected DEVICE_NEEDS_RESET warnings would only bury the report; device
    // exceptions reach this class directly (notifyDirectly), not through that log.
    java.util.logging.Logger transportLog =
        java.util.logging.Logger.getLogger(
            dev.hearth.vmm.devices.virtio.mmio.MmioTransport.class.getName());
    java.util.logging.Level level = transportLog.getLevel();
    transportLog.setLevel(java.util.logging.Level.SEVERE);
    try {
      return runQuietly(queue, iterations, template, mustComplete, between);
    } finally {
      transportLog.setLevel(level);
    }
  }

  private Stats runQuietly(
      int queue, int iterations, Template template, boolean mustComplete, Runnable between) {
    long started = System.nanoTime();
    MockDriver q = h.queue(queue);
    int size = q.size();
    long dataStart = q.dataStart();
    long completed = 0;
    long zero = 0;
    long resets = 0;
    long selfInflicted = 0;
    boolean corruptionOutstanding = false;
    for (int it = 0; it < iterations; it++) {
      between.run();
      q.freeAllBuffers(dataStart);
      q.setUsedEvent(r.nextInt(65536));
      boolean expectBroken = false;
      int head = r.nextInt(size);
      long writableBound = 0;
      int mode = r.nextInt(100);
      if (mode < 97) {
        List<long[]> raws = new ArrayList<>();
        if (mode < 85) {
          for (Buf b : template.chain(r, q)) {
            raws.add(new long[] {b.addr(), b.len() & 0xffffffffL, b.writable() ? F_WRITE : 0, 0});
          }
        } else {
          int n = 1 + r.nextInt(size + 2);
          for (int i = 0; i < n; i++) {
            raws.add(
                new long[] {randomAddr(q), r.nextInt(1 << 16), r.nextInt(8), r.nextInt(size + 4)});
          }
        }
        boolean indirect = r.nextInt(4) == 0;
        for (int i = 0; i < raws.size(); i++) {
          long[] d = raws.get(i);
          if (mode < 85) {
            d[2] |= i < raws.size() - 1 ? F_NEXT : 0;
            d[3] = indirect ? i + 1 : (head + i + 1) % size;
          }
        }
        if (mode >= 30 && mode < 85) {
          int k = 1 + r.nextInt(3);
          for (int m = 0; m < k; m++) {
            mutate(raws, q, indirect ? 0 : head);
          }
        }
        if (mode < 30) {
          // Untouched template: the device sees exactly these buffers.
          for (long[] d : raws) {
            writableBound += (d[2] & F_WRITE) != 0 ? d[1] : 0;
          }
        } else {
          // Mutated links may pull in stale descriptors; the chain's writable total still fits an
          // int.
          writableBound = Integer.MAX_VALUE;
        }
        if (indirect) {
          long table = q.allocUninitialised(16 * raws.size());
          for (int i = 0; i < raws.size(); i++) {
            long[] d = raws.get(i);
            q.writeRaw(table + 16L * i, d[0], (int) d[1], (int) d[2], (int) d[3]);
          }
          int tableLen = 16 * raws.size();
          if (r.nextInt(20) == 0) {
            tableLen = r.nextInt(4) == 0 ? 0 : tableLen + 1 + r.nextInt(15);
          }
          q.writeDescriptor(
              head, table, tableLen, F_INDIRECT | (r.nextInt(30) == 0 ? F_NEXT : 0), 0);
        } else {
          for (int i = 0; i < raws.size(); i++) {
            long[] d = raws.get(i);
            q.writeDescriptor((head + i) % size, d[0], (int) d[1], (int) d[2], (int) d[3]);
          }
        }
        q.publish(head);
      } else {
        expectBroken = true;
        if (r.nextBoolean()) {
          q.setAvailIdx(q.availIdx() + size + 1 + r.nextInt(1000));
        } else {
          q.publish(size + r.nextInt(65536 - size));
        }
      }

      ringsBefore = availRings(ringsBefore);
      notifyDirectly(queue, it);
      ringsAfter = availRings(ringsAfter);
      if (!java.util.Arrays.equals(ringsBefore, ringsAfter)) {
        // The guest aimed a device-writable buffer at its own available ring, and the device wrote
        // there as told. Anything may follow (stale heads, a broken queue); only the safety
        // properties hold. Start over on clean rings.
        selfInflicted++;
        corruptionOutstanding = false;
        restart();
        continue;
      }

      // A held-back queue (rate limiter) may reach a corrupt entry only later.
      corruptionOutstanding |= expectBroken;
      if (h.needsReset()) {
        if (!corruptionOutstanding) {
          throw failure(
              it, "device set DEVICE_NEEDS_RESET for a chain-level fault (mode " + mode + ")");
        }
        resets++;
        corruptionOutstanding = false;
        restart();
        continue;
      }
      if (expectBroken && mustComplete) {
        throw failure(it, "queue-level corruption went unnoticed");
      }
      if (mustComplete && !expectBroken) {
        List<Used> used = q.takeUsed();
        if (used.size() != 1 || used.get(0).head() != head) {
          throw failure(it, "expected head " + head + " back on the used ring, got " + used);
        }
        long len = used.get(0).len() & 0xffffffffL;
        if (len > writableBound) {
          throw failure(
              it,
              "used length " + len + " exceeds the " + writableBound + " writable bytes offered");
        }
        completed++;
        zero += len == 0 ? 1 : 0;
      } else {
        q.takeUsed();
      }
      if (it % 5000 == 0 && !h.fake.canariesIntact()) {
        throw failure(it, "host memory beside guest memory was written");
      }
    }
    if (!h.fake.canariesIntact()) {
      throw failure(iterations, "host memory beside guest memory was written");
    }
    return new Stats(
        iterations, completed, zero, resets, selfInflicted, System.nanoTime() - started);
  }

  private byte[] ringsBefore = new byte[0];
  private byte[] ringsAfter = new byte[0];

  /** Copies every queue's available ring into {@code into} (grown as needed) and returns it. */
  private byte[] availRings(byte[] into) {
    int total = 0;
    for (MockDriver d : h.queues) {
      total += 6 + 2 * d.size();
    }
    byte[] out = into.length == total ? into : new byte[total];
    int at = 0;
    for (MockDriver d : h.queues) {
      int n = 6 + 2 * d.size();
      d.memory().read(dev.hearth.vmm.memory.GuestAddress.of(d.availRing()), out, at, n);
      at += n;
    }
    return out;
  }

  private void notifyDirectly(int queue, int it) {
    // Straight to the device, not through the transport, which would turn a device exception into
    // DEVICE_NEEDS_RESET and hide the bug.
    VirtioDevice dev = h.transport.device();
    try {
      synchronized (dev) {
        dev.queueNotified(queue);
      }
    } catch (RuntimeException e) {
      throw new AssertionError("seed " + seed + " iteration " + it + ": device threw", e);
    }
  }

  /** Resets the device and brings it up again on fresh rings. */
  public void restart() {
    h.mmio.status(0);
    for (MockDriver d : h.queues) {
      d.reset();
    }
    h.start(h.features);
  }

  private AssertionError failure(int it, String what) {
    return new AssertionError("seed " + seed + " iteration " + it + ": " + what);
  }

  private long randomAddr(MockDriver q) {
    return switch (r.nextInt(6)) {
      case 0 -> r.nextLong();
      case 1 -> DeviceHarness.MEMORY - r.nextInt(64);
      case 2 -> q.descTable() + r.nextInt(4096);
      default -> r.nextInt(DeviceHarness.MEMORY);
    };
  }

  private void mutate(List<long[]> raws, MockDriver q, int firstIndex) {
    long[] d = raws.get(r.nextInt(raws.size()));
    switch (r.nextInt(16)) {
      case 0 -> d[0] = r.nextLong();
      case 1 -> d[0] = DeviceHarness.MEMORY - r.nextInt(64);
      case 2 -> d[0] = -1 - r.nextInt(16);
      case 3 -> d[0] = q.descTable() + r.nextInt(4096);
      case 4 -> d[1] = 0;
      case 5 -> d[1] = 0xffffffffL;
      case 6 -> d[1] = r.nextInt(1 << 20);
      case 7 -> d[1] = (d[1] + (r.nextBoolean() ? 1 : -1)) & 0xffffffffL;
      case 8 -> d[2] ^= F_WRITE;
      case 9 -> d[2] ^= F_NEXT;
      case 10 -> {
        d[2] |= F_INDIRECT;
        d[1] = 16L * r.nextInt(8);
      }
      case 11 -> d[3] = r.nextInt(q.size() + 4);
      case 12 -> {
        d[2] |= F_NEXT;
        d[3] = firstIndex;
      }
      case 13 -> raws.add(r.nextInt(raws.size() + 1), d.clone());
      case 14 -> {
        if (raws.size() > 1) {
          raws.remove(r.nextInt(raws.size()));
        }
      }
      default -> {
        int a = r.nextInt(raws.size());
        int b = r.nextInt(raws.size());
        long[] t = raws.get(a);
        raws.set(a, raws.get(b));
        raws.set(b, t);
      }
    }
  }
}
