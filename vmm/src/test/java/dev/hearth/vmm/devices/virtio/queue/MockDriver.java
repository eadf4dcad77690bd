package dev.hearth.vmm.devices.virtio.queue;

import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestMemory;
import java.util.ArrayList;
import java.util.List;

/**
 * Plays the guest driver's side of one split virtqueue on fake guest memory: lays out the rings,
 * writes descriptors, makes chains available and reads back what the device used. Test-only; it
 * trusts itself and checks nothing, so tests can also write hostile rings with it.
 */
public final class MockDriver {
  /** One buffer of a chain. */
  public record Buf(long addr, int len, boolean writable) {
    public static Buf in(long addr, int len) {
      return new Buf(addr, len, false);
    }

    public static Buf out(long addr, int len) {
      return new Buf(addr, len, true);
    }
  }

  /** One used-ring element. */
  public record Used(int head, int len) {}

  private final GuestMemory mem;
  private final int size;
  private final long desc;
  private final long avail;
  private final long used;
  private final long dataEnd;
  private long dataNext;
  private int nextDesc;
  private int availIdx;
  private int seenUsed;

  /**
   * A driver whose rings live at {@code base} (page-aligned) and whose buffers are allocated from
   * the following {@code dataBytes}.
   */
  public MockDriver(GuestMemory mem, int size, long base, long dataBytes) {
    this.mem = mem;
    this.size = size;
    this.desc = base;
    this.avail = desc + 16L * size;
    this.used = align(avail + 6 + 2L * size, 4096);
    this.dataNext = align(used + 6 + 8L * size, 4096);
    this.dataEnd = dataNext + dataBytes;
  }

  /** Configures {@code q} as the transport would after the driver wrote the queue registers. */
  public void configure(Virtqueue q) {
    q.setSize(size);
    q.setDescTable(desc);
    q.setAvailRing(avail);
    q.setUsedRing(used);
    q.setReady(true);
  }

  public GuestMemory memory() {
    return mem;
  }

  public int size() {
    return size;
  }

  public long descTable() {
    return desc;
  }

  public long availRing() {
    return avail;
  }

  public long usedRing() {
    return used;
  }

  /** Allocates {@code len} bytes of buffer space (8-aligned), zeroed. */
  public long alloc(int len) {
    long at = dataNext;
    dataNext = align(dataNext + Math.max(len, 1), 8);
    if (dataNext > dataEnd) {
      throw new IllegalStateException("mock driver out of buffer space");
    }
    mem.write(GuestAddress.of(at), new byte[len], 0, len);
    return at;
  }

  /** Allocates {@code len} bytes of buffer space (8-aligned) without clearing it. */
  public long allocUninitialised(int len) {
    long at = dataNext;
    dataNext = align(dataNext + Math.max(len, 1), 8);
    if (dataNext > dataEnd) {
      throw new IllegalStateException("mock driver out of buffer space");
    }
    return at;
  }

  /** Chains made available that the device has not used yet. */
  public int pending() {
    return (availIdx - usedIdx()) & 0xffff;
  }

  public int availIdx() {
    return availIdx;
  }

  /** Back to a fresh queue, as after a device reset: indices and rings zeroed. */
  public void reset() {
    availIdx = 0;
    seenUsed = 0;
    nextDesc = 0;
    mem.write(GuestAddress.of(avail), new byte[6 + 2 * size], 0, 6 + 2 * size);
    mem.write(GuestAddress.of(used), new byte[6 + 8 * size], 0, 6 + 8 * size);
  }

  /** Forgets all buffer allocations (after the device used everything). */
  public void freeAllBuffers(long dataStart) {
    dataNext = dataStart;
  }

  public long dataStart() {
    return align(used + 6 + 8L * size, 4096);
  }

  /** Writes a chain of direct descriptors, makes it available and returns its head. */
  public int addChain(Buf... bufs) {
    int head = nextDesc;
    for (int i = 0; i < bufs.length; i++) {
      int index = (head + i) % size;
      boolean last = i == bufs.length - 1;
      writeDescriptor(
          index,
          bufs[i].addr(),
          bufs[i].len(),
          (bufs[i].writable() ? Virtqueue.F_WRITE : 0) | (last ? 0 : Virtqueue.F_NEXT),
          (index + 1) % size);
    }
    nextDesc = (head + bufs.length) % size;
    publish(head);
    return head;
  }

  /** Writes {@code bufs} into an indirect table, points one descriptor at it and publishes it. */
  public int addIndirectChain(Buf... bufs) {
    long table = alloc(16 * bufs.length);
    for (int i = 0; i < bufs.length; i++) {
      boolean last = i == bufs.length - 1;
      writeRaw(
          table + 16L * i,
          bufs[i].addr(),
          bufs[i].len(),
          (bufs[i].writable() ? Virtqueue.F_WRITE : 0) | (last ? 0 : Virtqueue.F_NEXT),
          i + 1);
    }
    int head = nextDesc;
    writeDescriptor(head, table, 16 * bufs.length, Virtqueue.F_INDIRECT, 0);
    nextDesc = (head + 1) % size;
    publish(head);
    return head;
  }

  /** Writes descriptor {@code index} of the table as given. */
  public void writeDescriptor(int index, long addr, int len, int flags, int next) {
    writeRaw(desc + 16L * index, addr, len, flags, next);
  }

  /** Writes a descriptor at any guest address (for indirect tables). */
  public void writeRaw(long at, long addr, int len, int flags, int next) {
    mem.writeLong(GuestAddress.of(at), addr);
    mem.writeInt(GuestAddress.of(at + 8), len);
    mem.writeShort(GuestAddress.of(at + 12), (short) flags);
    mem.writeShort(GuestAddress.of(at + 14), (short) next);
  }

  /** Puts {@code head} in the next available slot and bumps the available index. */
  public void publish(int head) {
    mem.writeShort(GuestAddress.of(avail + 4 + 2L * (availIdx % size)), (short) head);
    availIdx = (availIdx + 1) & 0xffff;
    mem.writeShort(GuestAddress.of(avail + 2), (short) availIdx);
  }

  /** Sets the available index directly (hostile tests). */
  public void setAvailIdx(int idx) {
    availIdx = idx & 0xffff;
    mem.writeShort(GuestAddress.of(avail + 2), (short) idx);
  }

  public void setAvailFlags(int flags) {
    mem.writeShort(GuestAddress.of(avail), (short) flags);
  }

  public void setUsedEvent(int idx) {
    mem.writeShort(GuestAddress.of(avail + 4 + 2L * size), (short) idx);
  }

  /** The buffer address in descriptor {@code index} of the table. */
  public long descriptorAddr(int index) {
    return mem.readLong(GuestAddress.of(desc + 16L * index));
  }

  public int availEvent() {
    return mem.readShort(GuestAddress.of(used + 4 + 8L * size)) & 0xffff;
  }

  public int usedFlags() {
    return mem.readShort(GuestAddress.of(used)) & 0xffff;
  }

  public int usedIdx() {
    return mem.readShort(GuestAddress.of(used + 2)) & 0xffff;
  }

  /** The used elements added since the last call. */
  public List<Used> takeUsed() {
    List<Used> out = new ArrayList<>();
    int idx = usedIdx();
    while (seenUsed != idx) {
      long elem = used + 4 + 8L * (seenUsed % size);
      out.add(new Used(mem.readInt(GuestAddress.of(elem)), mem.readInt(GuestAddress.of(elem + 4))));
      seenUsed = (seenUsed + 1) & 0xffff;
    }
    return out;
  }

  public byte[] read(long addr, int len) {
    byte[] b = new byte[len];
    mem.read(GuestAddress.of(addr), b, 0, len);
    return b;
  }

  public void write(long addr, byte[] data) {
    mem.write(GuestAddress.of(addr), data, 0, data.length);
  }

  private static long align(long v, long a) {
    return (v + a - 1) & -a;
  }
}
