package dev.hearth.vmm.bench;

import dev.hearth.vmm.devices.virtio.DeviceHarness;
import dev.hearth.vmm.devices.virtio.net.MacAddress;
import dev.hearth.vmm.devices.virtio.net.NetConfig;
import dev.hearth.vmm.devices.virtio.net.NetCounters;
import dev.hearth.vmm.devices.virtio.net.VirtioNet;
import dev.hearth.vmm.devices.virtio.queue.MockDriver;
import dev.hearth.vmm.devices.virtio.queue.MockDriver.Buf;
import dev.hearth.vmm.ratelimit.Clock;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import dev.hearth.vmm.sys.LibC;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * virtio-net's host-side paths over a real tap ({@code IFF_TAP | IFF_NO_PI | IFF_VNET_HDR}, as the
 * device opens it) against a plain read/write loop on the same tap fd, with the same frame sizes,
 * alternating in short rounds and summarised by medians ({@link PairedRounds}). A mock driver plays
 * the guest on fake guest memory; the device figures include its work.
 *
 * <p>TX: the device sends BATCH chains per notify; the baseline writes the same frame (vnet header
 * included) to the fd. The frames are well-formed UDP to another host's MAC, which the kernel drops
 * on arrival. RX: before each timed drain, UDP datagrams sent (untimed) to a static neighbour put a
 * burst of frames of the exact size on the tap's queue; then the device (BATCH chains posted at a
 * time) or the baseline (reads into native memory) takes them until the tap is empty. Sizes are
 * Ethernet frame bytes, without the 12-byte vnet header; MB/s counts those bytes. Each size prints
 * {@code RESULT virtio-net <tx|rx> <bytes> <device frames/s> <device MB/s> <baseline frames/s>
 * <baseline MB/s> <ratio>}.
 *
 * <p>Needs root and {@code /dev/net/tun}; runs in a network namespace of its own ({@link
 * BenchTap}). Run: {@code vmm/src/bench/run-device-bench.sh}, or {@code java
 * --enable-native-access=ALL-UNNAMED -cp vmm/target/classes:vmm/target/test-classes
 * dev.hearth.vmm.bench.NetPathBench}
 */
public final class NetPathBench {
  private static final long ROUND_NANOS = 200_000_000L;
  private static final int ROUNDS = 10;
  private static final int BATCH = 64;
  private static final int HDR = VirtioNet.VNET_HDR_SIZE;
  private static final int[] SIZES = {64, 1514, 14 + BenchTap.MAX_MTU};

  private static final PairedRounds ROUNDS_OF = new PairedRounds(ROUNDS, ROUND_NANOS);
  private static long strays;

  // The RX queue's buffers, each large enough for any frame as a guest without mergeable buffers
  // posts them, and how many of them are posted: chains left over from one size serve the next.
  private static long[] rxBuffers;
  private static int rxPosted;
  private static int rxNext;
  private static long rxUsed;

  public static void main(String[] args) throws Exception {
    BenchTap.ensureOwnNetns(NetPathBench.class, args);
    System.out.printf(
        "virtio-net bench: tap %s, medians of %d rounds of %d ms each way after warm-up, batches of"
            + " %d%n",
        BenchTap.NAME, ROUNDS, ROUND_NANOS / 1_000_000, BATCH);
    try (BenchTap tap = BenchTap.open();
        Arena arena = Arena.ofConfined()) {
      VirtioNet net =
          new VirtioNet(
              tap.backend,
              new NetConfig(
                  "bench",
                  MacAddress.parse("02:00:00:00:00:03"),
                  RateLimiterConfig.UNLIMITED,
                  RateLimiterConfig.UNLIMITED),
              Clock.SYSTEM,
              new LoopTimers(null));
      try (DeviceHarness h = new DeviceHarness(net, 256, 32L << 20, 12L << 20).start()) {
        long droppedBefore = BenchTap.queueDrops();
        rxBuffers = new long[BATCH];
        for (int i = 0; i < BATCH; i++) {
          rxBuffers[i] = h.queue(0).allocUninitialised(VirtioNet.MAX_FRAME);
        }
        // A first pass of warm-ups only, so that the JIT has compiled every path before any
        // figure counts (the first size measured would otherwise pay for it).
        for (boolean report : new boolean[] {false, true}) {
          for (int size : SIZES) {
            tx(tap, h, arena, size, report);
          }
          for (int size : SIZES) {
            rx(tap, net, h, arena, size, report);
          }
        }
        NetCounters c = net.counters();
        System.out.printf(
            "device counters: tx %,d frames, %d errors, %d dropped; rx %,d frames, %d dropped;"
                + " tap queue overflows %d; frames of other sizes %d; frames sent but not read %d%n",
            c.txFrames(),
            c.txErrors(),
            c.txDropped(),
            c.rxFrames(),
            c.rxDropped(),
            BenchTap.queueDrops() - droppedBefore,
            strays,
            ROUNDS_OF.shortfall());
      }
    }
    System.exit(0);
  }

  private static void tx(BenchTap tap, DeviceHarness h, Arena arena, int size, boolean report)
      throws Exception {
    byte[] bytes = udpFrame(size);
    MockDriver q = h.queue(1);
    long frame = q.alloc(bytes.length);
    q.write(frame, bytes);
    MemorySegment plain = arena.allocate(bytes.length);
    MemorySegment.copy(MemorySegment.ofArray(bytes), 0, plain, 0, bytes.length);
    int fd = tap.backend.fd();
    PairedRounds.Batch device =
        () -> {
          for (int i = 0; i < BATCH; i++) {
            q.addChain(Buf.in(frame, bytes.length));
          }
          h.transport.queueNotify(1);
          int used = q.takeUsed().size();
          if (used != BATCH) {
            throw new IllegalStateException("device used " + used + " of " + BATCH + " TX chains");
          }
          return BATCH;
        };
    PairedRounds.Batch baseline =
        () -> {
          for (int i = 0; i < BATCH; i++) {
            long n = LibC.write(fd, plain);
            if (n != bytes.length) {
              throw new IllegalStateException("tap write of " + bytes.length + " returned " + n);
            }
          }
          return BATCH;
        };
    compare("tx", size, null, device, baseline, report);
  }

  private static void rx(
      BenchTap tap, VirtioNet net, DeviceHarness h, Arena arena, int size, boolean report)
      throws Exception {
    int len = HDR + size;
    int burst = size > 9000 ? 256 : 1024;
    MockDriver q = h.queue(0);
    PairedRounds.Batch device =
        () -> {
          long frames = 0;
          while (true) {
            // Chains are used in order, so the BATCH buffers rotate without overlap.
            for (; rxPosted < BATCH; rxPosted++) {
              q.addChain(Buf.out(rxBuffers[rxNext], VirtioNet.MAX_FRAME));
              rxNext = (rxNext + 1) % BATCH;
            }
            net.onBackendReadable();
            for (MockDriver.Used u : q.takeUsed()) {
              rxPosted--;
              long buffer = rxBuffers[(int) (rxUsed++ % BATCH)];
              if (u.len() == len) {
                if (frames++ == 0) {
                  checkDelivered(q, buffer);
                }
              } else {
                strays++;
              }
            }
            if (rxPosted > 0) {
              return frames; // chains left over: the tap is empty
            }
          }
        };
    MemorySegment plain = arena.allocate(VirtioNet.MAX_FRAME);
    int fd = tap.backend.fd();
    PairedRounds.Batch baseline =
        () -> {
          long frames = 0;
          for (long n; (n = LibC.read(fd, plain)) > 0; ) {
            if (n == len) {
              frames++;
            } else {
              strays++;
            }
          }
          return frames;
        };
    PairedRounds.Preparation fill =
        () -> {
          tap.sendFrames(burst, size);
          return burst;
        };
    compare("rx", size, fill, device, baseline, report);
  }

  /** Checks that what the device put in a guest buffer is a frame the benchmark sent. */
  private static void checkDelivered(MockDriver q, long buffer) {
    byte[] head = q.read(buffer, HDR + 14);
    byte[] dst = java.util.Arrays.copyOfRange(head, HDR, HDR + 6);
    if (head[10] != 1
        || !java.util.Arrays.equals(dst, MacAddress.parse(BenchTap.PEER_MAC).octets())
        || head[HDR + 12] != 0x08
        || head[HDR + 13] != 0x00) {
      throw new IllegalStateException(
          "the device delivered something else: " + java.util.HexFormat.of().formatHex(head));
    }
  }

  /** A vnet header (no offload) and an Ethernet/IPv4/UDP frame of {@code size} bytes. */
  private static byte[] udpFrame(int size) {
    ByteBuffer b = ByteBuffer.allocate(HDR + size).order(ByteOrder.BIG_ENDIAN);
    b.position(HDR);
    b.put(MacAddress.parse(BenchTap.PEER_MAC).octets());
    b.put(MacAddress.parse("02:00:00:00:00:03").octets());
    b.putShort((short) 0x0800);
    int ip = b.position();
    b.put((byte) 0x45).put((byte) 0).putShort((short) (size - 14));
    b.putInt(0).put((byte) 64).put((byte) 17).putShort((short) 0);
    b.put(new byte[] {10, 77, 0, 3}).put(new byte[] {10, 77, 0, 2});
    int sum = 0;
    for (int i = ip; i < ip + 20; i += 2) {
      sum += b.getShort(i) & 0xffff;
    }
    sum = (sum & 0xffff) + (sum >>> 16);
    b.putShort(ip + 10, (short) ~((sum & 0xffff) + (sum >>> 16)));
    b.putShort((short) 9).putShort((short) 9).putShort((short) (size - 34)).putShort((short) 0);
    return b.array();
  }

  private static void compare(
      String dir,
      int size,
      PairedRounds.Preparation fill,
      PairedRounds.Batch device,
      PairedRounds.Batch baseline,
      boolean report)
      throws Exception {
    if (!report) {
      ROUNDS_OF.warmUp(fill, device, baseline);
      return;
    }
    PairedRounds.Summary r = ROUNDS_OF.compare(fill, device, baseline);
    System.out.printf(
        "RESULT virtio-net %s %d %.0f %.1f %.0f %.1f %.3f%n",
        dir,
        size,
        r.devicePerSecond(),
        r.devicePerSecond() * size / 1e6,
        r.baselinePerSecond(),
        r.baselinePerSecond() * size / 1e6,
        r.ratio());
  }
}
