package dev.hearth.vmm.devices.virtio.queue;

import static dev.hearth.vmm.devices.virtio.queue.Virtqueue.DESC_SIZE;
import static dev.hearth.vmm.devices.virtio.queue.Virtqueue.F_INDIRECT;
import static dev.hearth.vmm.devices.virtio.queue.Virtqueue.F_NEXT;
import static dev.hearth.vmm.devices.virtio.queue.Virtqueue.F_WRITE;
import static dev.hearth.vmm.devices.virtio.queue.Virtqueue.hex;

import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestMemory;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads one descriptor chain of a split virtqueue out of guest memory and checks every part of it,
 * since all of it is hostile: loops, indirect tables nested or misused, readable buffers after
 * writable ones, buffers outside guest memory, more than 2 GiB in all. One per {@link Virtqueue},
 * used only by the thread that pops its chains.
 */
final class ChainWalker {
  private static final VarHandle LE_LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle LE_INT =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle LE_SHORT =
      MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

  private final byte[] desc = new byte[DESC_SIZE];

  /**
   * The descriptors of the chain whose head is {@code head} in the {@code size}-entry table at
   * {@code descTable}, following one indirect table if {@code indirect} was negotiated.
   *
   * @throws InvalidChainException if the chain is malformed in any way, the reason in its message
   */
  List<Descriptor> walk(GuestMemory mem, long descTable, int size, boolean indirect, int head)
      throws InvalidChainException {
    List<Descriptor> out = new ArrayList<>(4);
    long table = descTable;
    int tableSize = size;
    int index = head;
    int visited = 0;
    boolean inIndirect = false;
    boolean sawWritable = false;
    long total = 0;
    while (true) {
      if (visited++ >= tableSize) {
        throw new InvalidChainException(
            head, "longer than its table of " + tableSize + " (a loop?)");
      }
      // One copy of the whole descriptor: the guest may rewrite it meanwhile, and we act on
      // exactly the 16 bytes we validated.
      mem.read(GuestAddress.of(table + (long) DESC_SIZE * index), desc, 0, DESC_SIZE);
      long addr = (long) LE_LONG.get(desc, 0);
      long len = (int) LE_INT.get(desc, 8) & 0xffffffffL;
      int flags = (short) LE_SHORT.get(desc, 12) & 0xffff;
      int next = (short) LE_SHORT.get(desc, 14) & 0xffff;
      if ((flags & F_INDIRECT) != 0) {
        if (!indirect) {
          throw new InvalidChainException(
              head, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
        }
        if (inIndirect) {
          throw new InvalidChainException(head, "indirect descriptor inside an indirect table");
        }
        if ((flags & F_NEXT) != 0) {
          throw new InvalidChainException(head, "indirect descriptor with NEXT set");
        }
        if (len == 0 || len % DESC_SIZE != 0 || len / DESC_SIZE > size) {
          throw new InvalidChainException(head, "indirect table of " + len + " bytes");
        }
        if (!mem.isValid(GuestAddress.of(addr), len)) {
          throw new InvalidChainException(
              head,
              "indirect table at " + hex(addr) + " (" + len + " bytes) is outside guest memory");
        }
        table = addr;
        tableSize = (int) (len / DESC_SIZE);
        index = 0;
        visited = 0;
        inIndirect = true;
        continue;
      }
      boolean writable = (flags & F_WRITE) != 0;
      if (!writable && sawWritable) {
        throw new InvalidChainException(head, "device-readable descriptor after a writable one");
      }
      sawWritable |= writable;
      total += len;
      if (total > Integer.MAX_VALUE) {
        throw new InvalidChainException(head, "buffers total more than 2 GiB");
      }
      if (!mem.isValid(GuestAddress.of(addr), len)) {
        throw new InvalidChainException(
            head, "buffer at " + hex(addr) + " (" + len + " bytes) is outside guest memory");
      }
      out.add(new Descriptor(GuestAddress.of(addr), (int) len, writable));
      if ((flags & F_NEXT) == 0) {
        return out;
      }
      if (next >= tableSize) {
        throw new InvalidChainException(
            head, "next index " + next + " is outside a table of " + tableSize);
      }
      index = next;
    }
  }
}
