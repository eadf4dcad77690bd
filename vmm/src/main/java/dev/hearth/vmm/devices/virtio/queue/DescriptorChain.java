package dev.hearth.vmm.devices.virtio.queue;

import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestMemory;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A validated descriptor chain: every buffer lies within guest memory, device-readable buffers come
 * before device-writable ones, and the totals fit in an {@code int}. The readable buffers form one
 * logical byte stream and the writable buffers another; the copy methods address those streams by
 * offset and never go past them.
 *
 * <p>The guest can still rewrite the bytes behind these buffers at any moment; a device reads each
 * byte it acts on once, into its own memory, before it validates it.
 */
public final class DescriptorChain {
  private final int head;
  private final List<Descriptor> readable;
  private final List<Descriptor> writable;
  private final int readableBytes;
  private final int writableBytes;

  DescriptorChain(int head, List<Descriptor> descriptors) {
    this.head = head;
    List<Descriptor> r = new ArrayList<>(descriptors.size());
    List<Descriptor> w = new ArrayList<>(descriptors.size());
    long rb = 0;
    long wb = 0;
    for (Descriptor d : descriptors) {
      if (d.writable()) {
        w.add(d);
        wb += d.len();
      } else {
        r.add(d);
        rb += d.len();
      }
    }
    this.readable = Collections.unmodifiableList(r);
    this.writable = Collections.unmodifiableList(w);
    this.readableBytes = (int) rb;
    this.writableBytes = (int) wb;
  }

  /** The head index, which the device returns to the used ring when it is done. */
  public int head() {
    return head;
  }

  public List<Descriptor> readable() {
    return readable;
  }

  public List<Descriptor> writable() {
    return writable;
  }

  /** Total bytes the device may read. */
  public int readableBytes() {
    return readableBytes;
  }

  /** Total bytes the device may write. */
  public int writableBytes() {
    return writableBytes;
  }

  /**
   * Copies {@code len} bytes from offset {@code from} of the readable stream into {@code dst}.
   *
   * @throws IndexOutOfBoundsException if that range is not within the readable stream
   */
  public void read(GuestMemory mem, int from, byte[] dst, int off, int len) {
    checkRange(from, len, readableBytes, "read");
    for (Piece p : pieces(readable, from, len)) {
      mem.read(p.addr, dst, off, p.len);
      off += p.len;
    }
  }

  /**
   * Copies {@code len} bytes of {@code src} to offset {@code to} of the writable stream.
   *
   * @throws IndexOutOfBoundsException if that range is not within the writable stream
   */
  public void write(GuestMemory mem, int to, byte[] src, int off, int len) {
    checkRange(to, len, writableBytes, "write");
    for (Piece p : pieces(writable, to, len)) {
      mem.write(p.addr, src, off, p.len);
      off += p.len;
    }
  }

  /** Host memory behind {@code [from, from + len)} of the readable stream, for gathering I/O. */
  public List<MemorySegment> readableSegments(GuestMemory mem, int from, int len) {
    checkRange(from, len, readableBytes, "read");
    return segments(mem, pieces(readable, from, len));
  }

  /** Host memory behind {@code [to, to + len)} of the writable stream, for scattering I/O. */
  public List<MemorySegment> writableSegments(GuestMemory mem, int to, int len) {
    checkRange(to, len, writableBytes, "write");
    List<Piece> pieces = pieces(writable, to, len);
    List<MemorySegment> out = new ArrayList<>(pieces.size());
    for (Piece p : pieces) {
      out.add(mem.writableSlice(p.addr, p.len)); // counted as written, for diff snapshots
    }
    return out;
  }

  private static List<MemorySegment> segments(GuestMemory mem, List<Piece> pieces) {
    List<MemorySegment> out = new ArrayList<>(pieces.size());
    for (Piece p : pieces) {
      out.add(mem.slice(p.addr, p.len));
    }
    return out;
  }

  private static void checkRange(int from, int len, int total, String what) {
    if (from < 0 || len < 0 || from > total - len) {
      throw new IndexOutOfBoundsException(
          what + " of " + len + " bytes at " + from + " exceeds the chain's " + total + " bytes");
    }
  }

  private record Piece(GuestAddress addr, int len) {}

  private static List<Piece> pieces(List<Descriptor> descs, int from, int len) {
    List<Piece> out = new ArrayList<>(descs.size());
    int skip = from;
    for (Descriptor d : descs) {
      if (len == 0) {
        break;
      }
      if (skip >= d.len()) {
        skip -= d.len();
        continue;
      }
      int n = Math.min(d.len() - skip, len);
      if (n > 0) {
        out.add(new Piece(d.addr().plus(skip), n));
      }
      len -= n;
      skip = 0;
    }
    return out;
  }

  @Override
  public String toString() {
    return "DescriptorChain[head="
        + head
        + ", readable="
        + readableBytes
        + "B in "
        + readable.size()
        + ", writable="
        + writableBytes
        + "B in "
        + writable.size()
        + "]";
  }
}
