package dev.hearth.vmm.kvm;

import static dev.hearth.vmm.kvm.KvmIoctls.*;

import dev.hearth.vmm.snapshot.Snapshottable;
import dev.hearth.vmm.sys.Errno;
import dev.hearth.vmm.sys.LibC;
import dev.hearth.vmm.sys.SysException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * One vCPU and its {@code kvm_run} mapping. {@link #run} is called from the vCPU's own thread;
 * register accessors from that thread or while the vCPU is not running.
 */
public final class VcpuFd implements AutoCloseable, Snapshottable<VcpuState> {
  // Offsets in struct kvm_run (x86_64).
  private static final long RUN_IMMEDIATE_EXIT = 1;
  private static final long RUN_EXIT_REASON = 8;
  private static final long RUN_UNION = 32;

  private final int fd;
  private final int id;
  private final MemorySegment run;
  private final List<Integer> msrIndices;
  private volatile boolean closed;

  VcpuFd(int fd, int id, int mmapSize, List<Integer> msrIndices) {
    this.fd = fd;
    this.id = id;
    this.msrIndices = msrIndices;
    this.run = LibC.mmap(mmapSize, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, 0);
  }

  /** The vCPU id given at creation (its APIC id). */
  public int id() {
    return id;
  }

  /** The file descriptor. */
  public int fd() {
    return fd;
  }

  /**
   * Sets {@code kvm_run.immediate_exit}: while set, {@code KVM_RUN} returns at once with EINTR.
   * Together with a signal, this stops a vCPU without a race.
   */
  public void setImmediateExit(boolean on) {
    run.set(ValueLayout.JAVA_BYTE, RUN_IMMEDIATE_EXIT, (byte) (on ? 1 : 0));
  }

  /**
   * Runs the vCPU until the next exit that needs the VMM. A pending I/O or MMIO read must have been
   * answered (its {@code data} filled) before this is called again.
   */
  public VcpuExit run() {
    int r = LibC.ioctlRaw(fd, KVM_RUN, 0L);
    if (r == -Errno.EINTR || r == -Errno.EAGAIN) {
      return new VcpuExit.Interrupted();
    }
    if (r < 0) {
      throw new SysException("ioctl(KVM_RUN) on vCPU " + id, fd, -r, LibC.strerror(-r));
    }
    return decodeExit();
  }

  private VcpuExit decodeExit() {
    int reason = run.get(ValueLayout.JAVA_INT, RUN_EXIT_REASON);
    long u = RUN_UNION;
    return switch (reason) {
      case KVM_EXIT_IO -> {
        int direction = Byte.toUnsignedInt(run.get(ValueLayout.JAVA_BYTE, u));
        int size = Byte.toUnsignedInt(run.get(ValueLayout.JAVA_BYTE, u + 1));
        int port = Short.toUnsignedInt(run.get(ValueLayout.JAVA_SHORT, u + 2));
        int count = run.get(ValueLayout.JAVA_INT, u + 4);
        long dataOffset = run.get(ValueLayout.JAVA_LONG, u + 8);
        long len = (long) size * Integer.toUnsignedLong(count);
        if (dataOffset < 0 || len > run.byteSize() || dataOffset > run.byteSize() - len) {
          throw new KvmException(
              "KVM_EXIT_IO data (offset " + dataOffset + ", " + len + " bytes) outside kvm_run");
        }
        MemorySegment data = run.asSlice(dataOffset, len);
        yield direction == 0
            ? new VcpuExit.IoIn(port, size, count, data)
            : new VcpuExit.IoOut(port, size, count, data.toArray(ValueLayout.JAVA_BYTE));
      }
      case KVM_EXIT_MMIO -> {
        long address = run.get(ValueLayout.JAVA_LONG, u);
        int len = run.get(ValueLayout.JAVA_INT, u + 16);
        boolean isWrite = run.get(ValueLayout.JAVA_BYTE, u + 20) != 0;
        if (len < 0 || len > 8) {
          throw new KvmException("KVM_EXIT_MMIO of " + len + " bytes");
        }
        MemorySegment data = run.asSlice(u + 8, len);
        yield isWrite
            ? new VcpuExit.MmioWrite(address, data.toArray(ValueLayout.JAVA_BYTE))
            : new VcpuExit.MmioRead(address, data);
      }
      case KVM_EXIT_HLT -> new VcpuExit.Hlt();
      case KVM_EXIT_SHUTDOWN -> new VcpuExit.Shutdown();
      case KVM_EXIT_INTR -> new VcpuExit.Interrupted();
      case KVM_EXIT_SYSTEM_EVENT -> new VcpuExit.SystemEvent(run.get(ValueLayout.JAVA_INT, u));
      case KVM_EXIT_FAIL_ENTRY ->
          new VcpuExit.FailEntry(
              run.get(ValueLayout.JAVA_LONG, u), run.get(ValueLayout.JAVA_INT, u + 8));
      case KVM_EXIT_INTERNAL_ERROR -> decodeInternalError(u);
      default -> new VcpuExit.Other(reason);
    };
  }

  private VcpuExit decodeInternalError(long u) {
    int suberror = run.get(ValueLayout.JAVA_INT, u);
    int ndata = Math.min(Math.max(run.get(ValueLayout.JAVA_INT, u + 4), 0), 16);
    long[] data = new long[ndata];
    for (int i = 0; i < ndata; i++) {
      data[i] = run.get(ValueLayout.JAVA_LONG, u + 8 + 8L * i);
    }
    byte[] insn = new byte[0];
    if (suberror == KVM_INTERNAL_ERROR_EMULATION && ndata >= 1) {
      long flags = data[0];
      if ((flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) != 0) {
        int size = Math.min(Byte.toUnsignedInt(run.get(ValueLayout.JAVA_BYTE, u + 16)), 15);
        insn = run.asSlice(u + 17, size).toArray(ValueLayout.JAVA_BYTE);
      }
    }
    return new VcpuExit.InternalError(suberror, insn, data);
  }

  /** {@code KVM_GET_REGS}: the general-purpose registers. */
  public Regs getRegs() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment s = arena.allocate(Regs.SIZE, 8);
      LibC.ioctl(fd, KVM_GET_REGS, s, "KVM_GET_REGS");
      return Regs.read(s);
    }
  }

  /** {@code KVM_SET_REGS}. */
  public void setRegs(Regs regs) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment s = arena.allocate(Regs.SIZE, 8);
      regs.write(s);
      LibC.ioctl(fd, KVM_SET_REGS, s, "KVM_SET_REGS");
    }
  }

  /** {@code KVM_GET_SREGS}: segments, descriptor tables, control registers, EFER. */
  public Sregs getSregs() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment s = arena.allocate(Sregs.SIZE, 8);
      LibC.ioctl(fd, KVM_GET_SREGS, s, "KVM_GET_SREGS");
      return Sregs.read(s);
    }
  }

  /** {@code KVM_SET_SREGS}. */
  public void setSregs(Sregs sregs) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment s = arena.allocate(Sregs.SIZE, 8);
      sregs.write(s);
      LibC.ioctl(fd, KVM_SET_SREGS, s, "KVM_SET_SREGS");
    }
  }

  /** {@code KVM_SET_FPU} with the x87 control word {@code fcw} and SSE {@code mxcsr}. */
  public void setFpu(int fcw, int mxcsr) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment s = arena.allocate(416, 8);
      s.set(ValueLayout.JAVA_SHORT, 128, (short) fcw);
      s.set(ValueLayout.JAVA_INT, 408, mxcsr);
      LibC.ioctl(fd, KVM_SET_FPU, s, "KVM_SET_FPU");
    }
  }

  /** {@code KVM_SET_MSRS}; fails unless KVM accepted every entry. */
  public void setMsrs(List<MsrEntry> msrs) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment s = arena.allocate(8 + 16L * msrs.size(), 8);
      s.set(ValueLayout.JAVA_INT, 0, msrs.size());
      for (int i = 0; i < msrs.size(); i++) {
        s.set(ValueLayout.JAVA_INT, 8 + 16L * i, msrs.get(i).index());
        s.set(ValueLayout.JAVA_LONG, 8 + 16L * i + 8, msrs.get(i).data());
      }
      int set = LibC.ioctl(fd, KVM_SET_MSRS, s, "KVM_SET_MSRS");
      if (set != msrs.size()) {
        throw new KvmException(
            "KVM_SET_MSRS on vCPU "
                + id
                + " set "
                + set
                + " of "
                + msrs.size()
                + " MSRs; it refused MSR 0x"
                + Integer.toHexString(msrs.get(set).index()));
      }
    }
  }

  /** {@code KVM_GET_MSRS} for the given indices. */
  public List<MsrEntry> getMsrs(List<Integer> indices) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment s = arena.allocate(8 + 16L * indices.size(), 8);
      s.set(ValueLayout.JAVA_INT, 0, indices.size());
      for (int i = 0; i < indices.size(); i++) {
        s.set(ValueLayout.JAVA_INT, 8 + 16L * i, indices.get(i));
      }
      int got = LibC.ioctl(fd, KVM_GET_MSRS, s, "KVM_GET_MSRS");
      MsrEntry[] out = new MsrEntry[Math.min(got, indices.size())];
      for (int i = 0; i < out.length; i++) {
        out[i] =
            new MsrEntry(
                s.get(ValueLayout.JAVA_INT, 8 + 16L * i),
                s.get(ValueLayout.JAVA_LONG, 8 + 16L * i + 8));
      }
      return List.of(out);
    }
  }

  /** {@code KVM_GET_LAPIC}: the 1 KiB local APIC register page. */
  public byte[] getLapic() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment s = arena.allocate(1024, 8);
      LibC.ioctl(fd, KVM_GET_LAPIC, s, "KVM_GET_LAPIC");
      return s.toArray(ValueLayout.JAVA_BYTE);
    }
  }

  /** {@code KVM_SET_LAPIC} with a 1 KiB register page. */
  public void setLapic(byte[] lapic) {
    if (lapic.length != 1024) {
      throw new IllegalArgumentException("LAPIC state is 1024 bytes, not " + lapic.length);
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment s = arena.allocate(1024, 8);
      MemorySegment.copy(lapic, 0, s, ValueLayout.JAVA_BYTE, 0, 1024);
      LibC.ioctl(fd, KVM_SET_LAPIC, s, "KVM_SET_LAPIC");
    }
  }

  /** {@code KVM_SET_CPUID2}: what CPUID answers on this vCPU. */
  public void setCpuid(List<CpuidEntry> entries) {
    try (Arena arena = Arena.ofConfined()) {
      LibC.ioctl(fd, KVM_SET_CPUID2, Kvm.writeCpuid(arena, entries), "KVM_SET_CPUID2");
    }
  }

  /**
   * Everything KVM holds for this vCPU, in Firecracker's order. Only while the vCPU is out of
   * KVM_RUN. XSAVE and XCRs are left empty where this KVM lacks them (the FPU state covers x87 and
   * SSE); MSRs KVM will not read are left out.
   *
   * @throws dev.hearth.vmm.snapshot.SnapshotException naming an ioctl this KVM refused
   */
  @Override
  public VcpuState saveState() {
    byte[] mp = RawIoctl.get(fd, KVM_GET_MP_STATE, 4, "KVM_GET_MP_STATE");
    return new VcpuState(
        RawIoctl.get(fd, KVM_GET_REGS, Regs.SIZE, "KVM_GET_REGS"),
        RawIoctl.get(fd, KVM_GET_SREGS, Sregs.SIZE, "KVM_GET_SREGS"),
        RawIoctl.get(fd, KVM_GET_FPU, 416, "KVM_GET_FPU"),
        optional(KVM_GET_XSAVE, 4096, "KVM_GET_XSAVE"),
        optional(KVM_GET_XCRS, 392, "KVM_GET_XCRS"),
        readableMsrs(),
        RawIoctl.get(fd, KVM_GET_LAPIC, 1024, "KVM_GET_LAPIC"),
        RawIoctl.get(fd, KVM_GET_VCPU_EVENTS, 64, "KVM_GET_VCPU_EVENTS"),
        MemorySegment.ofArray(mp).get(ValueLayout.JAVA_INT_UNALIGNED, 0),
        RawIoctl.get(fd, KVM_GET_DEBUGREGS, 128, "KVM_GET_DEBUGREGS"));
  }

  /**
   * Sets what {@link #saveState} saved, on a vCPU whose CPUID is already set, in Firecracker's
   * order (the MSRs after the LAPIC, events last).
   */
  @Override
  public void restoreState(VcpuState s) {
    byte[] mp = new byte[4];
    MemorySegment.ofArray(mp).set(ValueLayout.JAVA_INT_UNALIGNED, 0, s.mpState());
    RawIoctl.set(fd, KVM_SET_MP_STATE, mp, 4, "KVM_SET_MP_STATE");
    RawIoctl.set(fd, KVM_SET_REGS, s.regs(), Regs.SIZE, "KVM_SET_REGS");
    RawIoctl.set(fd, KVM_SET_SREGS, s.sregs(), Sregs.SIZE, "KVM_SET_SREGS");
    if (s.xsave().length > 0) {
      RawIoctl.set(fd, KVM_SET_XSAVE, s.xsave(), 4096, "KVM_SET_XSAVE");
    } else {
      RawIoctl.set(fd, KVM_SET_FPU, s.fpu(), 416, "KVM_SET_FPU");
    }
    if (s.xcrs().length > 0) {
      RawIoctl.set(fd, KVM_SET_XCRS, s.xcrs(), 392, "KVM_SET_XCRS");
    }
    RawIoctl.set(fd, KVM_SET_DEBUGREGS, s.debugRegs(), 128, "KVM_SET_DEBUGREGS");
    RawIoctl.set(fd, KVM_SET_LAPIC, s.lapic(), 1024, "KVM_SET_LAPIC");
    try {
      setMsrs(s.msrs());
    } catch (KvmException e) {
      throw new dev.hearth.vmm.snapshot.SnapshotException(
          "this KVM refused saved state: " + e.getMessage(), e);
    }
    RawIoctl.set(fd, KVM_SET_VCPU_EVENTS, s.events(), 64, "KVM_SET_VCPU_EVENTS");
  }

  private byte[] optional(long request, int size, String name) {
    try {
      return RawIoctl.get(fd, request, size, name);
    } catch (dev.hearth.vmm.snapshot.SnapshotException e) {
      return new byte[0];
    }
  }

  /** KVM_GET_MSRS stops at the first MSR it will not read: skip that one and go on. */
  private List<MsrEntry> readableMsrs() {
    List<MsrEntry> out = new java.util.ArrayList<>();
    int from = 0;
    while (from < msrIndices.size()) {
      List<MsrEntry> got = getMsrs(msrIndices.subList(from, msrIndices.size()));
      out.addAll(got);
      from += got.size() + 1;
    }
    return List.copyOf(out);
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      LibC.munmap(run);
      LibC.close(fd);
    }
  }
}
