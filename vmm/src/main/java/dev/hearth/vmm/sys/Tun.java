package dev.hearth.vmm.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/** The TUN/TAP ioctls on {@code /dev/net/tun}, for tap devices with virtio-net headers. */
public final class Tun {
  public static final long TUNSETIFF = 0x400454caL; // _IOW('T', 202, int)
  public static final long TUNSETPERSIST = 0x400454cbL; // _IOW('T', 203, int)
  public static final long TUNSETOFFLOAD = 0x400454d0L; // _IOW('T', 208, unsigned int)
  public static final long TUNSETVNETHDRSZ = 0x400454d8L; // _IOW('T', 216, int)

  public static final short IFF_TAP = 0x0002;
  public static final short IFF_NO_PI = 0x1000;
  public static final short IFF_VNET_HDR = 0x4000;

  /** TUNSETOFFLOAD flags: what the tap may hand over unfinished (checksum, segmentation). */
  public static final int TUN_F_CSUM = 0x01;

  public static final int TUN_F_TSO4 = 0x02;
  public static final int TUN_F_TSO6 = 0x04;
  public static final int TUN_F_TSO_ECN = 0x08;
  public static final int TUN_F_UFO = 0x10;

  /** Linux's IFNAMSIZ, with the terminating NUL. */
  public static final int IFNAMSIZ = 16;

  private static final int IFREQ_SIZE = 40;

  private Tun() {}

  /**
   * Opens {@code /dev/net/tun} and attaches to the tap {@code name} ({@code TUNSETIFF}, creating it
   * if it does not exist) with {@code ifFlags}; {@code openFlags} adds to O_RDWR | O_CLOEXEC (e.g.
   * {@link LibC#O_NONBLOCK}). Returns the fd; the caller closes it.
   */
  public static int open(String name, short ifFlags, int openFlags) {
    byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
    if (bytes.length == 0 || bytes.length >= IFNAMSIZ) {
      throw new IllegalArgumentException("tap name '" + name + "' must be 1 to 15 characters");
    }
    int fd = LibC.open("/dev/net/tun", LibC.O_RDWR | LibC.O_CLOEXEC | openFlags);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment ifr = arena.allocate(IFREQ_SIZE);
      MemorySegment.copy(bytes, 0, ifr, ValueLayout.JAVA_BYTE, 0, bytes.length);
      ifr.set(ValueLayout.JAVA_SHORT, IFNAMSIZ, ifFlags);
      LibC.ioctl(fd, TUNSETIFF, ifr, "TUNSETIFF " + name);
      return fd;
    } catch (RuntimeException e) {
      LibC.close(fd);
      throw e;
    }
  }

  /** Sets the size of the virtio-net header in front of every frame ({@code TUNSETVNETHDRSZ}). */
  public static void setVnetHeaderSize(int fd, int size) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
      v.set(ValueLayout.JAVA_INT, 0, size);
      LibC.ioctl(fd, TUNSETVNETHDRSZ, v, "TUNSETVNETHDRSZ");
    }
  }

  /** Sets which offloads the reader of this tap accepts ({@code TUNSETOFFLOAD}, TUN_F_* flags). */
  public static void setOffload(int fd, int tunFlags) {
    LibC.ioctl(fd, TUNSETOFFLOAD, tunFlags & 0xffffffffL, "TUNSETOFFLOAD");
  }

  /** Makes the tap outlive its last fd, or stop doing so ({@code TUNSETPERSIST}). */
  public static void setPersist(int fd, boolean persist) {
    LibC.ioctl(fd, TUNSETPERSIST, persist ? 1L : 0L, "TUNSETPERSIST");
  }
}
