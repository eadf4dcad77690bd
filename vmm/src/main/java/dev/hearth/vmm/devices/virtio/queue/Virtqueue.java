package dev.hearth.vmm.devices.virtio.queue;

import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestMemory;
import dev.hearth.vmm.memory.GuestMemoryException;
import dev.hearth.vmm.snapshot.Snapshottable;
import java.lang.invoke.VarHandle;

/**
 * The device side of one split virtqueue (virtio 1.x, section 2.7), with indirect descriptors and
 * VIRTIO_F_EVENT_IDX. It knows nothing about devices: the transport configures it, a device pops
 * chains and returns them to the used ring.
 *
 * <p>Everything in the rings is hostile. A malformed chain fails that chain ({@link
 * InvalidChainException}); a broken ring fails the queue ({@link QueueBrokenException}). Only the
 * device's event-loop thread uses an activated queue; the transport configures it only while the
 * device is not running.
 *
 * <p>Ordering with the guest: the available index is read before the ring entries it covers
 * (acquire), used elements are written before the used index (release), and a full fence separates
 * publishing the used index from reading {@code used_event} (and publishing {@code avail_event}
 * from re-reading the available index), as the spec's notification-suppression protocol requires.
 */
public final class Virtqueue implements Snapshottable<VirtqueueState> {
  static final int DESC_SIZE = 16;
  static final int F_NEXT = 1;
  static final int F_WRITE = 2;
  static final int F_INDIRECT = 4;
  static final int AVAIL_F_NO_INTERRUPT = 1;
  static final int USED_F_NO_NOTIFY = 1;

  private final ChainWalker walker = new ChainWalker();
  private final int maxSize;
  private int size;
  private boolean ready;
  private long descTable;
  private long availRing;
  private long usedRing;

  private GuestMemory mem;
  private boolean eventIdx;
  private boolean indirect;
  private int nextAvail;
  private int nextUsed;
  private int signalledUsed;
  private boolean signalledValid;

  /** A queue whose size the driver may set up to {@code maxSize} (a power of two, up to 32768). */
  public Virtqueue(int maxSize) {
    if (maxSize <= 0 || maxSize > 32768 || Integer.bitCount(maxSize) != 1) {
      throw new IllegalArgumentException(
          "queue max size must be a power of two up to 32768: " + maxSize);
    }
    this.maxSize = maxSize;
    this.size = maxSize;
  }

  public int maxSize() {
    return maxSize;
  }

  public int size() {
    return size;
  }

  /** QueueNum. Any value is stored; {@link #validate} rejects sizes that are not usable. */
  public void setSize(int size) {
    this.size = size;
  }

  public boolean ready() {
    return ready;
  }

  public void setReady(boolean ready) {
    this.ready = ready;
  }

  public long descTable() {
    return descTable;
  }

  public void setDescTable(long addr) {
    this.descTable = addr;
  }

  public long availRing() {
    return availRing;
  }

  public void setAvailRing(long addr) {
    this.availRing = addr;
  }

  public long usedRing() {
    return usedRing;
  }

  public void setUsedRing(long addr) {
    this.usedRing = addr;
  }

  /** Back to the state after device reset: not ready, maximum size, no rings. */
  public void reset() {
    size = maxSize;
    ready = false;
    descTable = 0;
    availRing = 0;
    usedRing = 0;
    mem = null;
    nextAvail = 0;
    nextUsed = 0;
    signalledValid = false;
  }

  /**
   * Why this queue's configuration cannot be used with {@code memory}, or null if it can: size a
   * power of two up to the maximum, rings aligned and wholly inside guest memory.
   */
  public String validate(GuestMemory memory) {
    if (size <= 0 || size > maxSize || Integer.bitCount(size) != 1) {
      return "queue size " + size + " is not a power of two in [1, " + maxSize + "]";
    }
    if (descTable % 16 != 0 || availRing % 2 != 0 || usedRing % 4 != 0) {
      return "misaligned rings: desc "
          + hex(descTable)
          + " avail "
          + hex(availRing)
          + " used "
          + hex(usedRing);
    }
    if (!memory.isValid(GuestAddress.of(descTable), (long) DESC_SIZE * size)) {
      return "descriptor table at " + hex(descTable) + " is outside guest memory";
    }
    if (!memory.isValid(GuestAddress.of(availRing), 6L + 2L * size)) {
      return "available ring at " + hex(availRing) + " is outside guest memory";
    }
    if (!memory.isValid(GuestAddress.of(usedRing), 6L + 8L * size)) {
      return "used ring at " + hex(usedRing) + " is outside guest memory";
    }
    return null;
  }

  /**
   * Starts using the queue (the driver set DRIVER_OK).
   *
   * @throws QueueBrokenException if {@link #validate} objects
   */
  public void activate(GuestMemory memory, boolean eventIdx, boolean indirect)
      throws QueueBrokenException {
    String problem = validate(memory);
    if (problem != null) {
      throw new QueueBrokenException(problem);
    }
    this.mem = memory;
    this.eventIdx = eventIdx;
    this.indirect = indirect;
    this.nextAvail = 0;
    this.nextUsed = 0;
    this.signalledValid = false;
  }

  @Override
  public VirtqueueState saveState() {
    return new VirtqueueState(
        size,
        ready,
        descTable,
        availRing,
        usedRing,
        mem != null,
        eventIdx,
        indirect,
        nextAvail,
        nextUsed,
        signalledUsed,
        signalledValid);
  }

  /**
   * Takes back the configuration and ring positions; an active queue stays inactive until {@link
   * #resume} gives it guest memory.
   */
  @Override
  public void restoreState(VirtqueueState s) {
    reset();
    size = s.size();
    ready = s.ready();
    descTable = s.descTable();
    availRing = s.availRing();
    usedRing = s.usedRing();
    eventIdx = s.eventIdx();
    indirect = s.indirect();
    nextAvail = s.nextAvail() & 0xffff;
    nextUsed = s.nextUsed() & 0xffff;
    signalledUsed = s.signalledUsed() & 0xffff;
    signalledValid = s.signalledValid();
  }

  /**
   * Goes on using a restored queue where it stopped (unlike {@link #activate}, which starts at
   * index 0).
   *
   * @throws QueueBrokenException if {@link #validate} objects
   */
  public void resume(GuestMemory memory) throws QueueBrokenException {
    String problem = validate(memory);
    if (problem != null) {
      throw new QueueBrokenException(problem);
    }
    this.mem = memory;
  }

  /** Whether {@link #activate} succeeded and the queue has not been reset since. */
  public boolean active() {
    return mem != null;
  }

  /** The next available-ring position the device will take; it wraps at 2^16. */
  public int nextAvail() {
    return nextAvail;
  }

  /** The next used-ring position the device will fill; it wraps at 2^16. */
  public int nextUsed() {
    return nextUsed;
  }

  /** Whether the driver has made chains available that the device has not popped. */
  public boolean hasAvailable() throws QueueBrokenException {
    return pendingCount() > 0;
  }

  /**
   * Takes the next available chain, or returns null when there is none.
   *
   * @throws InvalidChainException if the chain is malformed: the caller returns its head as used
   * @throws QueueBrokenException if the ring is: the device must stop using the queue
   */
  public DescriptorChain pop() throws InvalidChainException, QueueBrokenException {
    if (pendingCount() == 0) {
      return null;
    }
    try {
      int slot = nextAvail & (size - 1);
      int head = mem.readShort(GuestAddress.of(availRing + 4 + 2L * slot)) & 0xffff;
      if (head >= size) {
        throw new QueueBrokenException(
            "available ring slot " + slot + " names descriptor " + head + " of a queue of " + size);
      }
      nextAvail = (nextAvail + 1) & 0xffff;
      return new DescriptorChain(head, walker.walk(mem, descTable, size, indirect, head));
    } catch (GuestMemoryException e) {
      throw new QueueBrokenException("ring access failed: " + e.getMessage(), e);
    }
  }

  /** Puts back the chain the last {@link #pop} returned, e.g. when a rate limiter refused it. */
  public void undoPop() {
    nextAvail = (nextAvail - 1) & 0xffff;
  }

  /**
   * Returns chain {@code head} to the driver, saying the device wrote {@code len} bytes into it.
   */
  public void addUsed(int head, int len) throws QueueBrokenException {
    requireActive();
    try {
      long elem = usedRing + 4 + 8L * (nextUsed & (size - 1));
      // id and len together, little-endian: id in the low half.
      mem.writeLong(GuestAddress.of(elem), (head & 0xffffffffL) | ((long) len << 32));
      nextUsed = (nextUsed + 1) & 0xffff;
      VarHandle.releaseFence();
      mem.writeShort(GuestAddress.of(usedRing + 2), (short) nextUsed);
    } catch (GuestMemoryException e) {
      throw new QueueBrokenException("used ring access failed: " + e.getMessage(), e);
    }
  }

  /**
   * Whether the driver wants an interrupt for the chains used since the last time this returned
   * true: with EVENT_IDX, whether the used index passed {@code used_event}; without it, whether the
   * driver left VIRTQ_AVAIL_F_NO_INTERRUPT clear.
   */
  public boolean needsNotification() throws QueueBrokenException {
    requireActive();
    VarHandle.fullFence();
    try {
      if (!eventIdx) {
        return (mem.readShort(GuestAddress.of(availRing)) & AVAIL_F_NO_INTERRUPT) == 0;
      }
      int usedEvent = mem.readShort(GuestAddress.of(availRing + 4 + 2L * size)) & 0xffff;
      int old = signalledUsed;
      boolean first = !signalledValid;
      signalledUsed = nextUsed;
      signalledValid = true;
      if (first) {
        return true;
      }
      return ((nextUsed - usedEvent - 1) & 0xffff) < ((nextUsed - old) & 0xffff);
    } catch (GuestMemoryException e) {
      throw new QueueBrokenException("available ring access failed: " + e.getMessage(), e);
    }
  }

  /**
   * Asks the driver to notify the device when it adds chains (after the device drained the queue),
   * and returns whether chains arrived meanwhile, in which case the device keeps going.
   */
  public boolean enableNotification() throws QueueBrokenException {
    requireActive();
    try {
      if (eventIdx) {
        mem.writeShort(GuestAddress.of(usedRing + 4 + 8L * size), (short) nextAvail);
      } else {
        mem.writeShort(GuestAddress.of(usedRing), (short) 0);
      }
    } catch (GuestMemoryException e) {
      throw new QueueBrokenException("used ring access failed: " + e.getMessage(), e);
    }
    VarHandle.fullFence();
    return hasAvailable();
  }

  /** Tells the driver it need not notify the device (without EVENT_IDX; a hint only). */
  public void disableNotification() throws QueueBrokenException {
    requireActive();
    if (!eventIdx) {
      try {
        mem.writeShort(GuestAddress.of(usedRing), (short) USED_F_NO_NOTIFY);
      } catch (GuestMemoryException e) {
        throw new QueueBrokenException("used ring access failed: " + e.getMessage(), e);
      }
    }
  }

  private int pendingCount() throws QueueBrokenException {
    requireActive();
    int availIdx;
    try {
      availIdx = mem.readShort(GuestAddress.of(availRing + 2)) & 0xffff;
    } catch (GuestMemoryException e) {
      throw new QueueBrokenException("available ring access failed: " + e.getMessage(), e);
    }
    // The ring entries up to availIdx must be read after availIdx itself.
    VarHandle.acquireFence();
    int pending = (availIdx - nextAvail) & 0xffff;
    if (pending > size) {
      throw new QueueBrokenException(
          "available index "
              + availIdx
              + " is "
              + pending
              + " ahead of "
              + nextAvail
              + " in a queue of "
              + size);
    }
    return pending;
  }

  private void requireActive() throws QueueBrokenException {
    if (mem == null) {
      throw new QueueBrokenException("queue is not active");
    }
  }

  /** {@code v} as {@code 0x...}, for messages. */
  static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }
}
