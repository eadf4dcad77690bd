package dev.hearth.vmm.kvm;

import dev.hearth.vmm.snapshot.SnapshotException;
import dev.hearth.vmm.sys.LibC;
import dev.hearth.vmm.sys.SysException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Get and set ioctls whose struct a snapshot keeps as opaque bytes (the kernel's own layout, which
 * the same kernel reads back). A refusal becomes a {@link SnapshotException} naming the ioctl, so
 * that a KVM lacking one (kvm_pvm) says which state it cannot save.
 */
final class RawIoctl {
  private RawIoctl() {}

  static byte[] get(int fd, long request, int size, String name) {
    return getWith(fd, request, new byte[size], name);
  }

  /** A get whose struct carries input (a chip id) in {@code in}. */
  static byte[] getWith(int fd, long request, byte[] in, String name) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment s = arena.allocate(in.length, 8);
      MemorySegment.copy(in, 0, s, ValueLayout.JAVA_BYTE, 0, in.length);
      LibC.ioctl(fd, request, s, name);
      return s.toArray(ValueLayout.JAVA_BYTE);
    } catch (SysException e) {
      throw new SnapshotException("this KVM cannot save state: " + e.getMessage(), e);
    }
  }

  static void set(int fd, long request, byte[] data, int size, String name) {
    if (data.length != size) {
      throw new SnapshotException(name + " state is " + data.length + " bytes, not " + size);
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment s = arena.allocate(size, 8);
      MemorySegment.copy(data, 0, s, ValueLayout.JAVA_BYTE, 0, size);
      LibC.ioctl(fd, request, s, name);
    } catch (SysException e) {
      throw new SnapshotException("this KVM refused saved state: " + e.getMessage(), e);
    }
  }
}
