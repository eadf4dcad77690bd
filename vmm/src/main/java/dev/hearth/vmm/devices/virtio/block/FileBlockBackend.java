package dev.hearth.vmm.devices.virtio.block;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A disk image file, read and written through a {@link FileChannel}. */
public final class FileBlockBackend implements BlockBackend {
  private final FileChannel channel;
  private final Path path;

  private FileBlockBackend(Path path, FileChannel channel) {
    this.path = path;
    this.channel = channel;
  }

  /** Opens {@code path}, for reading only when {@code readOnly}. */
  public static FileBlockBackend open(Path path, boolean readOnly) throws IOException {
    FileChannel ch =
        readOnly
            ? FileChannel.open(path, StandardOpenOption.READ)
            : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
    return new FileBlockBackend(path, ch);
  }

  @Override
  public long size() throws IOException {
    return channel.size();
  }

  @Override
  public void read(long position, ByteBuffer[] dst) throws IOException {
    long pos = position;
    for (ByteBuffer b : dst) {
      while (b.hasRemaining()) {
        int n = channel.read(b, pos);
        if (n < 0) {
          throw new EOFException(path + ": end of file at " + pos);
        }
        pos += n;
      }
    }
  }

  @Override
  public void write(long position, ByteBuffer[] src) throws IOException {
    long pos = position;
    for (ByteBuffer b : src) {
      while (b.hasRemaining()) {
        pos += channel.write(b, pos);
      }
    }
  }

  @Override
  public void flush() throws IOException {
    channel.force(false);
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  @Override
  public String toString() {
    return "FileBlockBackend[" + path + "]";
  }
}
