package dev.hearth.vmm.kvm;

import static dev.hearth.vmm.kvm.KvmIoctls.*;

import dev.hearth.vmm.snapshot.Snapshottable;
import dev.hearth.vmm.sys.LibC;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.OptionalLong;

/** A KVM VM: its memory slots, interrupt controller, PIT, eventfd wiring and vCPUs. */
public final class VmFd implements AutoCloseable, Snapshottable<KvmVmState> {
  private final int fd;
  private final int vcpuMmapSize;
  private final List<Integer> msrIndices;
  private volatile boolean closed;

  VmFd(int fd, int vcpuMmapSize, List<Integer> msrIndices) {
    this.fd = fd;
    this.vcpuMmapSize = vcpuMmapSize;
    this.msrIndices = msrIndices;
  }

  /** The file descriptor. */
  public int fd() {
    return fd;
  }

  /** {@code KVM_SET_TSS_ADDR}: three pages of guest-physical space KVM needs on Intel. */
  public void setTssAddress(long address) {
    LibC.ioctl(fd, KVM_SET_TSS_ADDR, address, "KVM_SET_TSS_ADDR");
  }

  /** {@code KVM_CREATE_IRQCHIP}: in-kernel PIC, IOAPIC and per-vCPU LAPICs. */
  public void createIrqchip() {
    LibC.ioctl(fd, KVM_CREATE_IRQCHIP, 0L, "KVM_CREATE_IRQCHIP");
  }

  /** {@code KVM_CREATE_PIT2}: an in-kernel i8254 PIT with a dummy speaker port. */
  public void createPit2() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment config = arena.allocate(64, 8);
      config.set(ValueLayout.JAVA_INT, 0, KVM_PIT_SPEAKER_DUMMY);
      LibC.ioctl(fd, KVM_CREATE_PIT2, config, "KVM_CREATE_PIT2");
    }
  }

  /**
   * {@code KVM_SET_USER_MEMORY_REGION}: maps {@code host} at guest-physical {@code guestAddress} in
   * memory slot {@code slot}. {@code host} must be page-aligned host memory that outlives the VM's
   * use of it.
   */
  public void setUserMemoryRegion(int slot, long guestAddress, MemorySegment host) {
    setUserMemoryRegion(slot, guestAddress, host, 0);
  }

  /**
   * {@code KVM_SET_USER_MEMORY_REGION} with {@code flags}, for example {@link
   * KvmIoctls#KVM_MEM_LOG_DIRTY_PAGES} on a slot already set (a flags-only change keeps its pages).
   */
  public void setUserMemoryRegion(int slot, long guestAddress, MemorySegment host, int flags) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment region = arena.allocate(32, 8);
      region.set(ValueLayout.JAVA_INT, 0, slot);
      region.set(ValueLayout.JAVA_INT, 4, flags);
      region.set(ValueLayout.JAVA_LONG, 8, guestAddress);
      region.set(ValueLayout.JAVA_LONG, 16, host.byteSize());
      region.set(ValueLayout.JAVA_LONG, 24, host.address());
      LibC.ioctl(fd, KVM_SET_USER_MEMORY_REGION, region, "KVM_SET_USER_MEMORY_REGION");
    }
  }

  /**
   * {@code KVM_GET_DIRTY_LOG}: the pages of {@code slot} ({@code pages} of them) the guest wrote
   * since the last call or since dirty logging began, one bit each (bit {@code p % 64} of word
   * {@code p / 64}); KVM clears the log as it answers. The slot must log dirty pages.
   */
  public long[] dirtyLog(int slot, long pages) {
    int words = (int) ((pages + 63) / 64);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment bitmap = arena.allocate(words * 8L, 8);
      MemorySegment log = arena.allocate(16, 8);
      log.set(ValueLayout.JAVA_INT, 0, slot);
      log.set(ValueLayout.JAVA_LONG, 8, bitmap.address());
      LibC.ioctl(fd, KVM_GET_DIRTY_LOG, log, "KVM_GET_DIRTY_LOG");
      return bitmap.toArray(ValueLayout.JAVA_LONG);
    }
  }

  /** {@code KVM_IRQ_LINE}: sets interrupt line {@code irq} to {@code level}. */
  public void irqLine(int irq, boolean level) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment s = arena.allocate(8, 4);
      s.set(ValueLayout.JAVA_INT, 0, irq);
      s.set(ValueLayout.JAVA_INT, 4, level ? 1 : 0);
      LibC.ioctl(fd, KVM_IRQ_LINE, s, "KVM_IRQ_LINE");
    }
  }

  /**
   * Raises an edge on interrupt line {@code irq}: {@code KVM_IRQ_LINE} high, then low, as an irqfd
   * does in the kernel. For a line signalled rarely (the serial port, which a polled console never
   * interrupts), this costs no eventfd and no irqfd per VM. Does nothing once the VM is closed.
   *
   * <p>Callable from any thread (console input arrives on the host's), so it holds the lock that
   * {@link #close} takes: a pulse racing the close would otherwise reach the fd number after it was
   * closed, which this process may have given to another VM meanwhile.
   */
  public synchronized void pulseIrqLine(int irq) {
    if (closed) {
      return;
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment s = arena.allocate(8, 4);
      s.set(ValueLayout.JAVA_INT, 0, irq);
      s.set(ValueLayout.JAVA_INT, 4, 1);
      LibC.ioctl(fd, KVM_IRQ_LINE, s, "KVM_IRQ_LINE");
      s.set(ValueLayout.JAVA_INT, 4, 0);
      LibC.ioctl(fd, KVM_IRQ_LINE, s, "KVM_IRQ_LINE");
    }
  }

  /**
   * {@code KVM_IRQFD}: a write to eventfd {@code eventFd} raises an edge on GSI {@code gsi} without
   * leaving the kernel.
   */
  public void registerIrqfd(int eventFd, int gsi) {
    irqfd(eventFd, gsi, 0);
  }

  /** Undoes {@link #registerIrqfd}. */
  public void unregisterIrqfd(int eventFd, int gsi) {
    irqfd(eventFd, gsi, KVM_IRQFD_FLAG_DEASSIGN);
  }

  /**
   * {@code KVM_IOEVENTFD}: a guest write of {@code length} bytes to {@code address} (an MMIO
   * address, or an I/O port when {@code pio}) signals eventfd {@code eventFd} instead of exiting to
   * the VMM; with {@code datamatch}, only a write of that value does.
   */
  public void registerIoeventfd(
      int eventFd, long address, int length, OptionalLong datamatch, boolean pio) {
    ioeventfd(eventFd, address, length, datamatch, pio ? KVM_IOEVENTFD_FLAG_PIO : 0);
  }

  /** Undoes {@link #registerIoeventfd} (same arguments). */
  public void unregisterIoeventfd(
      int eventFd, long address, int length, OptionalLong datamatch, boolean pio) {
    ioeventfd(
        eventFd,
        address,
        length,
        datamatch,
        KVM_IOEVENTFD_FLAG_DEASSIGN | (pio ? KVM_IOEVENTFD_FLAG_PIO : 0));
  }

  /** {@code KVM_CREATE_VCPU} with id {@code id}, and its {@code kvm_run} mapping. */
  public VcpuFd createVcpu(int id) {
    int vcpuFd = LibC.ioctl(fd, KVM_CREATE_VCPU, id, "KVM_CREATE_VCPU");
    try {
      return new VcpuFd(vcpuFd, id, vcpuMmapSize, msrIndices);
    } catch (RuntimeException e) {
      LibC.close(vcpuFd);
      throw e;
    }
  }

  /**
   * The in-kernel devices' state: both PICs and the IOAPIC ({@code KVM_GET_IRQCHIP}), the PIT
   * ({@code KVM_GET_PIT2}) and kvmclock ({@code KVM_GET_CLOCK}). Only while no vCPU runs.
   *
   * @throws SnapshotException naming the ioctl this KVM refused
   */
  @Override
  public KvmVmState saveState() {
    byte[] clock = RawIoctl.get(fd, KVM_GET_CLOCK, 48, "KVM_GET_CLOCK");
    // As Firecracker: a restored clock is not known to be TSC-stable until KVM says so again.
    clock[12] = (byte) (clock[12] & ~KVM_CLOCK_TSC_STABLE);
    return new KvmVmState(
        irqchip(IRQCHIP_PIC_MASTER),
        irqchip(IRQCHIP_PIC_SLAVE),
        irqchip(IRQCHIP_IOAPIC),
        RawIoctl.get(fd, KVM_GET_PIT2, 112, "KVM_GET_PIT2"),
        clock);
  }

  /** Sets what {@link #saveState} saved, on a VM with an irqchip and PIT and no running vCPU. */
  @Override
  public void restoreState(KvmVmState state) {
    RawIoctl.set(fd, KVM_SET_PIT2, state.pit(), 112, "KVM_SET_PIT2");
    RawIoctl.set(fd, KVM_SET_CLOCK, state.clock(), 48, "KVM_SET_CLOCK");
    RawIoctl.set(fd, KVM_SET_IRQCHIP, state.picMaster(), 520, "KVM_SET_IRQCHIP (PIC master)");
    RawIoctl.set(fd, KVM_SET_IRQCHIP, state.picSlave(), 520, "KVM_SET_IRQCHIP (PIC slave)");
    RawIoctl.set(fd, KVM_SET_IRQCHIP, state.ioapic(), 520, "KVM_SET_IRQCHIP (IOAPIC)");
  }

  private byte[] irqchip(int chip) {
    byte[] in = new byte[520];
    in[0] = (byte) chip;
    return RawIoctl.getWith(fd, KVM_GET_IRQCHIP, in, "KVM_GET_IRQCHIP (chip " + chip + ")");
  }

  private void irqfd(int eventFd, int gsi, int flags) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment s = arena.allocate(32, 8);
      s.set(ValueLayout.JAVA_INT, 0, eventFd);
      s.set(ValueLayout.JAVA_INT, 4, gsi);
      s.set(ValueLayout.JAVA_INT, 8, flags);
      LibC.ioctl(fd, KVM_IRQFD, s, "KVM_IRQFD");
    }
  }

  private void ioeventfd(int eventFd, long address, int length, OptionalLong datamatch, int flags) {
    if (length != 0 && length != 1 && length != 2 && length != 4 && length != 8) {
      throw new IllegalArgumentException("ioeventfd length must be 0, 1, 2, 4 or 8: " + length);
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment s = arena.allocate(64, 8);
      s.set(ValueLayout.JAVA_LONG, 0, datamatch.orElse(0));
      s.set(ValueLayout.JAVA_LONG, 8, address);
      s.set(ValueLayout.JAVA_INT, 16, length);
      s.set(ValueLayout.JAVA_INT, 20, eventFd);
      s.set(
          ValueLayout.JAVA_INT,
          24,
          flags | (datamatch.isPresent() ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0));
      LibC.ioctl(fd, KVM_IOEVENTFD, s, "KVM_IOEVENTFD");
    }
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      LibC.close(fd);
    }
  }
}
