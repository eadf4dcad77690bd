package dev.hearth.vmm.devices.virtio.block;

import dev.hearth.vmm.devices.virtio.DeviceType;
import dev.hearth.vmm.devices.virtio.QueueDrain;
import dev.hearth.vmm.devices.virtio.RequestQueueDevice;
import dev.hearth.vmm.devices.virtio.VirtioFeatures;
import dev.hearth.vmm.devices.virtio.queue.DescriptorChain;
import dev.hearth.vmm.ratelimit.Clock;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import dev.hearth.vmm.ratelimit.RefillTimer;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * virtio-blk (ID 2) on a {@link BlockBackend}: one request queue; IN, OUT, FLUSH and GET_ID; an
 * optional read-only mode; a bandwidth and ops rate limiter.
 *
 * <p>A request is a 16-byte device-readable header (type, reserved, sector), data buffers, and a
 * final device-writable status byte. A request too malformed to carry a status byte is returned
 * with length 0. Otherwise every failure (sectors past the end, a data length that is not whole
 * sectors, a write to a read-only disk, an I/O error) is reported in the status byte as IOERR, and
 * unknown types as UNSUPP; the device goes on serving.
 */
public final class VirtioBlock extends RequestQueueDevice implements java.io.Closeable {
  // Written by the event-loop thread alone; read for metrics from any thread.
  private volatile long readBytes;
  private volatile long writeBytes;

  private static final System.Logger LOG = System.getLogger(VirtioBlock.class.getName());

  static final int F_SEG_MAX = 2;
  static final int F_RO = 5;
  static final int F_FLUSH = 9;

  static final int T_IN = 0;
  static final int T_OUT = 1;
  static final int T_FLUSH = 4;
  static final int T_GET_ID = 8;

  static final byte S_OK = 0;
  static final byte S_IOERR = 1;
  static final byte S_UNSUPP = 2;

  static final int SECTOR = 512;
  static final int HEADER = 16;
  private static final int CONFIG_SIZE = 24;

  private final BlockBackend backend;
  private final boolean readOnly;
  private final byte[] id;
  private final long capacitySectors;
  private final byte[] config = new byte[CONFIG_SIZE];

  /**
   * A drive over {@code backend}; its capacity is the backend's size in whole sectors.
   *
   * @param timers makes the rate limiter's refill timer (the VM's event loop)
   */
  public VirtioBlock(
      BlockBackend backend,
      boolean readOnly,
      String serial,
      RateLimiterConfig limit,
      Clock clock,
      RefillTimer.Factory timers)
      throws IOException {
    super(limit, clock, timers);
    this.backend = backend;
    this.readOnly = readOnly;
    this.id = serial.getBytes(StandardCharsets.US_ASCII);
    if (id.length > BlockConfig.ID_BYTES) {
      throw new IllegalArgumentException("serial longer than " + BlockConfig.ID_BYTES + " bytes");
    }
    this.capacitySectors = backend.size() / SECTOR;
    ByteBuffer c = ByteBuffer.wrap(config).order(ByteOrder.LITTLE_ENDIAN);
    c.putLong(0, capacitySectors);
    c.putInt(12, QUEUE_SIZE - 2); // seg_max: the header and status take two descriptors
    c.putInt(20, SECTOR); // blk_size (not offered as a feature; informative)
  }

  /** Opens the file {@code config} names and builds the drive on it. */
  public static VirtioBlock open(BlockConfig config, Clock clock, RefillTimer.Factory timers)
      throws IOException {
    return new VirtioBlock(
        FileBlockBackend.open(config.path(), config.readOnly()),
        config.readOnly(),
        config.serial(),
        config.rateLimit(),
        clock,
        timers);
  }

  public long capacitySectors() {
    return capacitySectors;
  }

  @Override
  public int deviceType() {
    return DeviceType.BLOCK;
  }

  @Override
  public long deviceFeatures() {
    long f = VirtioFeatures.bit(F_SEG_MAX) | VirtioFeatures.bit(F_FLUSH);
    return readOnly ? f | VirtioFeatures.bit(F_RO) : f;
  }

  @Override
  public int configSize() {
    return CONFIG_SIZE;
  }

  @Override
  public void readConfig(int offset, byte[] data) {
    System.arraycopy(config, offset, data, 0, data.length);
  }

  @Override
  public void writeConfig(int offset, byte[] data) {}

  /** Closes the backend (the image file). The VM calls it after it stopped the guest. */
  @Override
  public synchronized void close() throws IOException {
    reset();
    backend.close();
  }

  @Override
  protected int serve(DescriptorChain chain) {
    if (chain.readableBytes() < HEADER || chain.writableBytes() < 1) {
      return 0;
    }
    byte[] h = new byte[HEADER];
    chain.read(memory(), 0, h, 0, HEADER);
    ByteBuffer hb = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN);
    int type = hb.getInt(0);
    long sector = hb.getLong(8);
    int statusAt = chain.writableBytes() - 1;
    return switch (type) {
      case T_IN -> transfer(chain, false, sector, statusAt);
      case T_OUT -> transfer(chain, true, sector, statusAt);
      case T_FLUSH ->
          rateLimiter().consumeRequest(0) ? finish(chain, statusAt, flush(), 0) : QueueDrain.STOP;
      case T_GET_ID -> rateLimiter().consumeRequest(0) ? getId(chain, statusAt) : QueueDrain.STOP;
      default -> finish(chain, statusAt, S_UNSUPP, 0);
    };
  }

  private int transfer(DescriptorChain chain, boolean write, long sector, int statusAt) {
    int len = write ? chain.readableBytes() - HEADER : statusAt;
    if (len % SECTOR != 0
        || sector < 0
        || sector > capacitySectors
        || len / SECTOR > capacitySectors - sector
        || (write && readOnly)) {
      return finish(chain, statusAt, S_IOERR, 0);
    }
    if (!rateLimiter().consumeRequest(len)) {
      return QueueDrain.STOP;
    }
    long position = sector * SECTOR;
    try {
      if (write) {
        backend.write(position, buffers(chain.readableSegments(memory(), HEADER, len)));
        writeBytes += len;
        return finish(chain, statusAt, S_OK, 0);
      }
      backend.read(position, buffers(chain.writableSegments(memory(), 0, len)));
      readBytes += len;
      return finish(chain, statusAt, S_OK, len);
    } catch (IOException | RuntimeException e) {
      log()
          .log(
              LOG,
              System.Logger.Level.WARNING,
              "virtio-blk {0} at sector {1} failed on {2}: {3}",
              write ? "write" : "read",
              sector,
              backend,
              e.toString());
      return finish(chain, statusAt, S_IOERR, 0);
    }
  }

  private byte flush() {
    if (readOnly) {
      return S_OK;
    }
    try {
      backend.flush();
      return S_OK;
    } catch (IOException | RuntimeException e) {
      log()
          .log(
              LOG,
              System.Logger.Level.WARNING,
              "virtio-blk flush failed on {0}: {1}",
              backend,
              e.toString());
      return S_IOERR;
    }
  }

  private int getId(DescriptorChain chain, int statusAt) {
    int n = Math.min(statusAt, BlockConfig.ID_BYTES);
    byte[] answer = new byte[n];
    System.arraycopy(id, 0, answer, 0, Math.min(n, id.length));
    chain.write(memory(), 0, answer, 0, n);
    return finish(chain, statusAt, S_OK, n);
  }

  private int finish(DescriptorChain chain, int statusAt, byte status, int dataWritten) {
    chain.write(memory(), statusAt, new byte[] {status}, 0, 1);
    return dataWritten + 1;
  }

  private static ByteBuffer[] buffers(List<MemorySegment> segments) {
    ByteBuffer[] out = new ByteBuffer[segments.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = segments.get(i).asByteBuffer();
    }
    return out;
  }

  /** Bytes read from the backing file for the guest so far. */
  public long readBytes() {
    return readBytes;
  }

  /** Bytes the guest wrote to the backing file so far. */
  public long writeBytes() {
    return writeBytes;
  }
}
