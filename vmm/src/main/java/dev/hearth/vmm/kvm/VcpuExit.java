package dev.hearth.vmm.kvm;

import java.lang.foreign.MemorySegment;
import java.util.HexFormat;

/**
 * Why {@code KVM_RUN} returned. Data the guest supplied (ports, addresses, sizes) is as the guest
 * gave it: handlers treat it as hostile.
 */
public sealed interface VcpuExit {

  /**
   * The guest reads {@code size} bytes from I/O {@code port}, {@code count} times (string I/O): the
   * handler fills {@code data} ({@code size * count} bytes, inside {@code kvm_run}) before the next
   * {@code KVM_RUN}.
   */
  record IoIn(int port, int size, int count, MemorySegment data) implements VcpuExit {}

  /** The guest wrote {@code data} ({@code size * count} bytes) to I/O {@code port}. */
  record IoOut(int port, int size, int count, byte[] data) implements VcpuExit {}

  /**
   * The guest reads {@code data.byteSize()} bytes at guest-physical {@code address} that is not
   * RAM: the handler fills {@code data} before the next {@code KVM_RUN}.
   */
  record MmioRead(long address, MemorySegment data) implements VcpuExit {}

  /** The guest wrote {@code data} at guest-physical {@code address} that is not RAM. */
  record MmioWrite(long address, byte[] data) implements VcpuExit {}

  /** The vCPU executed HLT and no in-kernel LAPIC handled it. */
  record Hlt() implements VcpuExit {}

  /** The vCPU shut down: a triple fault. */
  record Shutdown() implements VcpuExit {}

  /** A system event (reset, shutdown, crash) with its {@code type}. */
  record SystemEvent(int type) implements VcpuExit {
    public boolean isReset() {
      return type == KvmIoctls.KVM_SYSTEM_EVENT_RESET;
    }
  }

  /**
   * KVM could not go on. For an emulation failure ({@code suberror} 1) {@code instructionBytes}
   * holds the bytes KVM failed on, where it reported them.
   */
  record InternalError(int suberror, byte[] instructionBytes, long[] data) implements VcpuExit {
    public boolean isEmulationFailure() {
      return suberror == KvmIoctls.KVM_INTERNAL_ERROR_EMULATION;
    }

    @Override
    public String toString() {
      return "InternalError[suberror="
          + suberror
          + ", instructionBytes="
          + HexFormat.ofDelimiter(" ").formatHex(instructionBytes)
          + "]";
    }
  }

  /** The hardware refused to enter the guest. */
  record FailEntry(long hardwareReason, int cpu) implements VcpuExit {}

  /**
   * {@code KVM_RUN} was interrupted (a signal, or {@code immediate_exit}) before or while running.
   */
  record Interrupted() implements VcpuExit {}

  /** An exit the VMM does not handle, with its raw reason. */
  record Other(int reason) implements VcpuExit {}
}
