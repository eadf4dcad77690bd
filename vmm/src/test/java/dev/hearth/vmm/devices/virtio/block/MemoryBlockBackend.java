package dev.hearth.vmm.devices.virtio.block;

import java.io.IOException;
import java.nio.ByteBuffer;

/** A disk in a byte array, for tests that exercise the device rather than the file system. */
public final class MemoryBlockBackend implements BlockBackend {
  private final byte[] disk;

  public MemoryBlockBackend(int bytes) {
    this.disk = new byte[bytes];
  }

  @Override
  public long size() {
    return disk.length;
  }

  @Override
  public void read(long position, ByteBuffer[] dst) throws IOException {
    int at = Math.toIntExact(position);
    for (ByteBuffer b : dst) {
      int n = b.remaining();
      b.put(disk, at, n);
      at += n;
    }
  }

  @Override
  public void write(long position, ByteBuffer[] src) throws IOException {
    int at = Math.toIntExact(position);
    for (ByteBuffer b : src) {
      int n = b.remaining();
      b.get(disk, at, n);
      at += n;
    }
  }

  @Override
  public void flush() {}

  @Override
  public void close() {}
}
