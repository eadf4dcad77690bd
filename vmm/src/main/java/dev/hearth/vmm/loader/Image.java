package dev.hearth.vmm.loader;

import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestMemory;
import dev.hearth.vmm.memory.GuestMemoryException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A kernel or initrd image, read where it lies: headers in small reads, contents straight from the
 * file into guest memory in bounded chunks, so an image of any size costs the heap next to nothing.
 * Every read is checked against the image's size; every failure is a {@link LoaderException}.
 */
final class Image implements AutoCloseable {
  /** Bytes per read into guest memory. */
  private static final int CHUNK = 1 << 20;

  private final String name;
  private final long size;
  private final FileChannel file;
  private final byte[] bytes;
  // The start of the file as head() read it: header reads within it need no system call (an
  // ELF's header and program headers are there).
  private byte[] head = new byte[0];

  private Image(String name, long size, FileChannel file, byte[] bytes) {
    this.name = name;
    this.size = size;
    this.file = file;
    this.bytes = bytes;
  }

  /** An image held in memory already (tests, fuzzing). */
  static Image of(byte[] bytes, String name) {
    return new Image(name, bytes.length, null, bytes);
  }

  /** Opens the image file at {@code path}; the caller closes it. */
  static Image open(Path path, String what) {
    try {
      FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
      try {
        return new Image(what + " " + path, ch.size(), ch, null);
      } catch (RuntimeException e) {
        ch.close();
        throw e;
      }
    } catch (IOException e) {
      throw new LoaderException("cannot read " + what + " " + path + ": " + e.getMessage(), e);
    }
  }

  String name() {
    return name;
  }

  long size() {
    return size;
  }

  /** The {@code len} bytes at {@code offset}, which must lie in the image; for headers. */
  byte[] read(long offset, int len) {
    check(offset, len);
    byte[] out = new byte[len];
    if (bytes != null) {
      System.arraycopy(bytes, (int) offset, out, 0, len);
      return out;
    }
    if (offset + len <= head.length) {
      System.arraycopy(head, (int) offset, out, 0, len);
      return out;
    }
    fill(ByteBuffer.wrap(out), offset);
    return out;
  }

  /** Up to {@code max} bytes from the start (fewer if the image is shorter). */
  byte[] head(int max) {
    byte[] h = read(0, (int) Math.min(max, size));
    if (h.length > head.length) {
      head = h.clone(); // a copy: the caller may change its own
    }
    return h;
  }

  /** Copies the image's {@code [offset, offset + len)} into guest memory at {@code at}. */
  void copyTo(long offset, long len, GuestMemory memory, GuestAddress at) {
    check(offset, len);
    try {
      if (bytes != null) {
        memory.write(at, bytes, (int) offset, (int) len);
        return;
      }
      for (long done = 0; done < len; ) {
        int n = (int) Math.min(CHUNK, len - done);
        fill(memory.slice(at.plus(done), n).asByteBuffer(), offset + done);
        done += n;
      }
    } catch (GuestMemoryException e) {
      throw new LoaderException(name + ": " + e.getMessage(), e);
    }
  }

  private void fill(ByteBuffer dst, long offset) {
    try {
      long at = offset;
      while (dst.hasRemaining()) {
        int n = file.read(dst, at);
        if (n < 0) {
          throw new LoaderException(name + " ended early: it changed while being loaded");
        }
        at += n;
      }
    } catch (IOException e) {
      throw new LoaderException("cannot read " + name + ": " + e.getMessage(), e);
    }
  }

  private void check(long offset, long len) {
    if (offset < 0 || len < 0 || offset > size || len > size - offset) {
      throw new LoaderException(
          name + ": " + len + " bytes at offset " + offset + " lie outside its " + size + " bytes");
    }
  }

  @Override
  public void close() {
    if (file != null) {
      try {
        file.close();
      } catch (IOException e) {
        // Read-only: nothing was lost.
      }
    }
  }
}
