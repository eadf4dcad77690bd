package dev.hearth.vmm.devices.virtio.block;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/** The storage behind a virtio-blk device. Positional, so there is no shared file pointer. */
public interface BlockBackend extends Closeable {

  /** Size in bytes. */
  long size() throws IOException;

  /** Fills every buffer completely from {@code position} on, or throws. */
  void read(long position, ByteBuffer[] dst) throws IOException;

  /** Writes every buffer completely at {@code position} on, or throws. */
  void write(long position, ByteBuffer[] src) throws IOException;

  /** Makes earlier writes durable. */
  void flush() throws IOException;
}
