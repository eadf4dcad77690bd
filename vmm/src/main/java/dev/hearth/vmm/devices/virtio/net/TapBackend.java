package dev.hearth.vmm.devices.virtio.net;

import dev.hearth.vmm.devices.virtio.VirtioFeatures;
import dev.hearth.vmm.sys.Errno;
import dev.hearth.vmm.sys.LibC;
import dev.hearth.vmm.sys.SysException;
import dev.hearth.vmm.sys.Tun;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * A host tap as a {@link NetBackend}: {@code /dev/net/tun} attached by name with {@code IFF_TAP |
 * IFF_NO_PI | IFF_VNET_HDR}, a 12-byte vnet header, non-blocking. The VM watches {@link #fd()}
 * edge-triggered and reads until {@link #read} returns 0.
 *
 * <p>Offloads: at open it asks the tap which of checksum, TSO4/6 (with ECN) and UFO it accepts
 * ({@code TUNSETOFFLOAD}), offers the matching virtio-net features, then turns them all off until
 * the guest has negotiated ({@link #setOffloads}).
 */
public final class TapBackend implements NetBackend {
  private final String name;
  private final int fd;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment rxBuffer;
  private final MemorySegment txBuffer;
  private final int tunOffloads;
  private boolean closed;

  private TapBackend(String name, int fd, int tunOffloads) {
    this.name = name;
    this.fd = fd;
    this.tunOffloads = tunOffloads;
    this.rxBuffer = arena.allocate(VirtioNet.MAX_FRAME);
    this.txBuffer = arena.allocate(VirtioNet.MAX_FRAME);
  }

  /**
   * Attaches to the tap {@code name}.
   *
   * @throws IOException naming the tap and the errno when it cannot be opened (no such tap is made
   *     then: a tap this call would have created goes away with the fd)
   */
  public static TapBackend open(String name) throws IOException {
    int fd;
    try {
      fd =
          Tun.open(name, (short) (Tun.IFF_TAP | Tun.IFF_NO_PI | Tun.IFF_VNET_HDR), LibC.O_NONBLOCK);
    } catch (SysException | IllegalArgumentException e) {
      throw new IOException("cannot open tap " + name + ": " + e.getMessage(), e);
    }
    try {
      Tun.setVnetHeaderSize(fd, VirtioNet.VNET_HDR_SIZE);
      int offloads = probeOffloads(fd);
      Tun.setOffload(fd, 0);
      return new TapBackend(name, fd, offloads);
    } catch (SysException e) {
      LibC.close(fd);
      throw new IOException("cannot set up tap " + name + ": " + e.getMessage(), e);
    }
  }

  /** The widest set of TUN_F_* offloads this tap accepts, trying the larger sets first. */
  private static int probeOffloads(int fd) {
    int tso = Tun.TUN_F_CSUM | Tun.TUN_F_TSO4 | Tun.TUN_F_TSO6 | Tun.TUN_F_TSO_ECN;
    for (int flags : new int[] {tso | Tun.TUN_F_UFO, tso, Tun.TUN_F_CSUM}) {
      try {
        Tun.setOffload(fd, flags);
        return flags;
      } catch (SysException e) {
        if (e.errno() != Errno.EINVAL) {
          throw e;
        }
      }
    }
    return 0;
  }

  /** The tap's fd, for the event loop (EPOLLIN | EPOLLET). */
  public int fd() {
    return fd;
  }

  /** The tap's name. */
  public String name() {
    return name;
  }

  /** Reads straight into a direct {@code dst}; through a buffer of its own into a heap one. */
  @Override
  public synchronized int read(ByteBuffer dst) throws IOException {
    int max = Math.min(dst.remaining(), VirtioNet.MAX_FRAME);
    MemorySegment target = dst.isDirect() ? MemorySegment.ofBuffer(dst) : rxBuffer;
    long n;
    try {
      n = LibC.read(fd, target.asSlice(0, max));
    } catch (SysException e) {
      throw new IOException("tap " + name + ": " + e.getMessage(), e);
    }
    if (n <= 0) {
      return 0; // EAGAIN: nothing waiting
    }
    if (!dst.isDirect()) {
      MemorySegment.ofBuffer(dst).copyFrom(rxBuffer.asSlice(0, n));
    }
    dst.position(dst.position() + (int) n);
    return (int) n;
  }

  /**
   * Writes a frame in one piece from a direct buffer straight to the tap; gathers one in several
   * pieces into a buffer of its own first.
   */
  @Override
  public synchronized void write(ByteBuffer[] frame) throws IOException {
    long len = 0;
    for (ByteBuffer b : frame) {
      len += b.remaining();
    }
    if (len > VirtioNet.MAX_FRAME) {
      throw new IOException(
          "tap " + name + ": frame of more than " + VirtioNet.MAX_FRAME + " bytes");
    }
    MemorySegment source;
    if (frame.length == 1 && frame[0].isDirect()) {
      source = MemorySegment.ofBuffer(frame[0]);
    } else {
      long at = 0;
      for (ByteBuffer b : frame) {
        txBuffer.asSlice(at, b.remaining()).copyFrom(MemorySegment.ofBuffer(b));
        at += b.remaining();
      }
      source = txBuffer.asSlice(0, len);
    }
    long written;
    try {
      written = LibC.write(fd, source);
    } catch (SysException e) {
      throw new IOException("tap " + name + ": " + e.getMessage(), e);
    }
    if (written == -Errno.EAGAIN) {
      throw new IOException("tap " + name + " is full; frame dropped");
    }
  }

  @Override
  public long offloadFeatures() {
    long f = 0;
    if ((tunOffloads & Tun.TUN_F_CSUM) != 0) {
      f |= bit(VirtioNet.F_CSUM) | bit(VirtioNet.F_GUEST_CSUM);
    }
    if ((tunOffloads & Tun.TUN_F_TSO4) != 0) {
      f |= bit(VirtioNet.F_GUEST_TSO4) | bit(VirtioNet.F_HOST_TSO4);
    }
    if ((tunOffloads & Tun.TUN_F_TSO6) != 0) {
      f |= bit(VirtioNet.F_GUEST_TSO6) | bit(VirtioNet.F_HOST_TSO6);
    }
    if ((tunOffloads & Tun.TUN_F_TSO_ECN) != 0) {
      f |= bit(VirtioNet.F_GUEST_ECN) | bit(VirtioNet.F_HOST_ECN);
    }
    if ((tunOffloads & Tun.TUN_F_UFO) != 0) {
      f |= bit(VirtioNet.F_GUEST_UFO) | bit(VirtioNet.F_HOST_UFO);
    }
    return f;
  }

  @Override
  public synchronized void setOffloads(int tunFlags) throws IOException {
    try {
      Tun.setOffload(fd, tunFlags & tunOffloads);
    } catch (SysException e) {
      throw new IOException("tap " + name + ": " + e.getMessage(), e);
    }
  }

  /** Closes the fd (a tap that is not persistent goes away with it) and frees the buffers. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      LibC.close(fd);
      arena.close();
    }
  }

  @Override
  public String toString() {
    return "TapBackend[" + name + ", fd " + fd + "]";
  }

  private static long bit(int b) {
    return VirtioFeatures.bit(b);
  }
}
