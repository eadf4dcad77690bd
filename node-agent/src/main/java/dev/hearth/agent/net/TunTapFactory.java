package dev.hearth.agent.net;

import dev.hearth.vmm.sys.LibC;
import dev.hearth.vmm.sys.SysException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Taps made directly with the TUN ioctls on {@code /dev/net/tun}, through the VMM's libc bindings:
 * {@code TUNSETIFF} with {@code IFF_TAP | IFF_NO_PI | IFF_VNET_HDR}, then {@code TUNSETPERSIST} so
 * the tap outlives this fd until the VMM attaches to it by name (and so an agent crash leaves it
 * for {@link NodeNetwork#reconcile} to find). Deleting clears persistence and closes the fd, which
 * removes the device. Optionally inside a named network namespace (tests).
 */
public final class TunTapFactory implements TapFactory {
  static final long TUNSETIFF = 0x400454caL; // _IOW('T', 202, int)
  static final long TUNSETPERSIST = 0x400454cbL; // _IOW('T', 203, int)
  static final short IFF_TAP = 0x0002;
  static final short IFF_NO_PI = 0x1000;
  static final short IFF_VNET_HDR = 0x4000;
  private static final int IFREQ_SIZE = 40;
  private static final int IFNAMSIZ = 16;

  private final Optional<Path> netns;

  private TunTapFactory(Optional<Path> netns) {
    this.netns = netns;
  }

  /** Taps in the agent's own network namespace (the host's). */
  public static TunTapFactory host() {
    return new TunTapFactory(Optional.empty());
  }

  /** Taps in the namespace {@code ip netns add <name>} made. */
  public static TunTapFactory inNamespace(String name) {
    return new TunTapFactory(Optional.of(NetNamespace.named(name)));
  }

  @Override
  public void create(String name) {
    run(() -> setPersist(name, true));
  }

  @Override
  public void delete(String name) {
    run(
        () -> {
          try {
            setPersist(name, false);
          } catch (NetworkException e) {
            // A tap that does not exist is already deleted; TUNSETIFF would have made a
            // non-persistent one, which closing the fd has removed again.
          }
        });
  }

  private void run(Runnable r) {
    if (netns.isPresent()) {
      NetNamespace.call(
          netns.get(),
          () -> {
            r.run();
            return null;
          });
    } else {
      r.run();
    }
  }

  private static void setPersist(String name, boolean persist) {
    byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
    if (bytes.length == 0 || bytes.length >= IFNAMSIZ) {
      throw new NetworkException("tap name '" + name + "' must be 1 to 15 characters");
    }
    int fd;
    try {
      fd = LibC.open("/dev/net/tun", LibC.O_RDWR | LibC.O_CLOEXEC);
    } catch (SysException e) {
      throw new NetworkException(
          "cannot open /dev/net/tun for tap " + name + ": " + e.getMessage(), e);
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment ifr = arena.allocate(IFREQ_SIZE);
      MemorySegment.copy(bytes, 0, ifr, ValueLayout.JAVA_BYTE, 0, bytes.length);
      ifr.set(ValueLayout.JAVA_SHORT, IFNAMSIZ, (short) (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR));
      LibC.ioctl(fd, TUNSETIFF, ifr, "TUNSETIFF " + name);
      LibC.ioctl(fd, TUNSETPERSIST, persist ? 1L : 0L, "TUNSETPERSIST " + name);
    } catch (SysException e) {
      throw new NetworkException("tap " + name + ": " + e.getMessage(), e);
    } finally {
      LibC.close(fd);
    }
  }
}
