package dev.hearth.vmm.devices.virtio.queue;

import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestMemory;
import dev.hearth.vmm.memory.GuestRegion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Guest memory for device tests: one region at guest address 0, carved out of a larger host
 * allocation whose bytes on either side (the canaries) hold a pattern. A device that writes outside
 * guest memory on the host side would change them.
 */
public final class FakeGuestMemory implements AutoCloseable {
  private static final int CANARY = 4096;
  private static final byte PATTERN = (byte) 0xA5;

  private final Arena arena = Arena.ofShared();
  private final MemorySegment whole;
  private final GuestMemory memory;

  public FakeGuestMemory(long size) {
    whole = arena.allocate(size + 2 * CANARY, 4096);
    whole.asSlice(0, CANARY).fill(PATTERN);
    whole.asSlice(CANARY + size, CANARY).fill(PATTERN);
    memory =
        GuestMemory.of(List.of(new GuestRegion(GuestAddress.of(0), whole.asSlice(CANARY, size))));
  }

  public GuestMemory memory() {
    return memory;
  }

  /** Whether both canaries are as they were laid. */
  public boolean canariesIntact() {
    for (long i = 0; i < CANARY; i++) {
      if (whole.get(ValueLayout.JAVA_BYTE, i) != PATTERN
          || whole.get(ValueLayout.JAVA_BYTE, whole.byteSize() - 1 - i) != PATTERN) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    arena.close();
  }
}
