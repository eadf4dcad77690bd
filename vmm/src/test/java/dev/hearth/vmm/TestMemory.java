package dev.hearth.vmm;

import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestMemory;
import dev.hearth.vmm.memory.GuestRegion;
import java.lang.foreign.Arena;
import java.util.List;

/** Fake guest memory on the Java heap's neighbour: one region from 0, auto-freed. */
public final class TestMemory {
  private TestMemory() {}

  public static GuestMemory of(long bytes) {
    return GuestMemory.of(
        List.of(new GuestRegion(GuestAddress.of(0), Arena.ofAuto().allocate(bytes, 4096))));
  }
}
