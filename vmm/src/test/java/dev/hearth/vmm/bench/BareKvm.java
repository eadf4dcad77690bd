package dev.hearth.vmm.bench;

import dev.hearth.vmm.arch.x86_64.LongMode;
import dev.hearth.vmm.arch.x86_64.X86Layout;
import dev.hearth.vmm.kvm.CpuidEntry;
import dev.hearth.vmm.kvm.Kvm;
import dev.hearth.vmm.kvm.Regs;
import dev.hearth.vmm.kvm.VcpuExit;
import dev.hearth.vmm.kvm.VcpuFd;
import dev.hearth.vmm.kvm.VmFd;
import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestMemory;
import dev.hearth.vmm.memory.MappedGuestMemory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The bare KVM floor for {@link VmmBench}: what the least VMM must do to run the bench guest, on
 * this thread, with no devices, threads, event loop or sandbox. Per VM: open {@code /dev/kvm},
 * create the VM, map 8 MiB and make it a memory slot, give the VM its TSS, irqchip and PIT (as
 * Hearth does, in the same order: the fastest), read the guest's ELF and copy its segments in,
 * write the GDT, page tables and the command line pointer, create the vCPU (which maps {@code
 * kvm_run}), set its CPUID, special and general registers, then {@code KVM_RUN}: console bytes are
 * counted, other port writes ignored, port reads answered with zeros, until the guest resets
 * through the i8042 (or, for set-up, until its first console byte); then close everything.
 *
 * <p>The supported-CPUID list is read once per process, as Hearth reads it.
 */
final class BareKvm {
  private static final int SERIAL = X86Layout.SERIAL_PORT;
  private static final int I8042_COMMAND = 0x64;
  private static final int CMDLINE_POINTER = 0x228;
  private static final long MEMORY = 8 << 20;
  private static volatile List<CpuidEntry> cpuid;

  private BareKvm() {}

  /**
   * What one bare run measured: times in nanoseconds from its start, this process's CPU time at the
   * first exit ({@link HostStats#processCpuNanos}), and console bytes.
   */
  record Run(
      long firstExitNanos,
      long firstExitCpuNanos,
      long endNanos,
      long closedNanos,
      int consoleBytes) {}

  /**
   * Runs {@code elf} with {@code cmdline}: to its end, or only to its first console byte when
   * {@code toFirstExit}.
   */
  static Run run(Path elf, String cmdline, boolean toFirstExit) throws IOException {
    long t0 = System.nanoTime();
    Kvm kvm = Kvm.open();
    VmFd vm = kvm.createVm();
    if (cpuid == null) {
      cpuid = kvm.supportedCpuid();
    }
    kvm.close();
    // Memory before the irqchip and PIT: each of these waits for an SRCU grace period, and in
    // this order the waits are shortest (irqchip first made set-up about 2x slower in wall time).
    MappedGuestMemory mem =
        MappedGuestMemory.map(List.of(new MappedGuestMemory.Range(GuestAddress.of(0), MEMORY)));
    vm.setUserMemoryRegion(0, 0, mem.memory().regions().get(0).host());
    vm.setTssAddress(X86Layout.KVM_TSS_ADDRESS);
    vm.createIrqchip();
    vm.createPit2();
    long entry = load(Files.readAllBytes(elf), mem.memory());
    LongMode.writeTables(mem.memory());
    byte[] line = (cmdline + "\0").getBytes(StandardCharsets.US_ASCII);
    mem.memory().write(GuestAddress.of(X86Layout.CMDLINE_START), line, 0, line.length);
    mem.memory()
        .writeInt(
            GuestAddress.of(X86Layout.ZERO_PAGE_START + CMDLINE_POINTER),
            (int) X86Layout.CMDLINE_START);
    VcpuFd vcpu = vm.createVcpu(0);
    vcpu.setCpuid(cpuid);
    vcpu.setSregs(LongMode.apply(vcpu.getSregs()));
    vcpu.setRegs(Regs.entry(entry, X86Layout.BOOT_STACK_POINTER, X86Layout.ZERO_PAGE_START));
    long firstExit = 0;
    long firstExitCpu = 0;
    int bytes = 0;
    boolean running = true;
    while (running) {
      VcpuExit exit = vcpu.run();
      switch (exit) {
        case VcpuExit.IoOut out when out.port() == SERIAL -> {
          if (bytes++ == 0) {
            firstExit = System.nanoTime() - t0;
            firstExitCpu = HostStats.processCpuNanos();
            running = !toFirstExit;
          }
        }
        case VcpuExit.IoOut out ->
            running = !(out.port() == I8042_COMMAND && (out.data()[0] & 0xff) == 0xfe);
        case VcpuExit.IoIn in -> in.data().fill((byte) 0);
        case VcpuExit.Interrupted i -> {}
        default -> throw new IllegalStateException("bare KVM: unexpected exit " + exit);
      }
    }
    long end = System.nanoTime() - t0;
    vcpu.close();
    mem.close();
    vm.close();
    return new Run(firstExit, firstExitCpu, end, System.nanoTime() - t0, bytes);
  }

  /** Copies the ELF's loadable segments to their physical addresses; returns the entry point. */
  private static long load(byte[] elf, GuestMemory memory) {
    ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
    long phoff = b.getLong(0x20);
    int phentsize = Short.toUnsignedInt(b.getShort(0x36));
    int phnum = Short.toUnsignedInt(b.getShort(0x38));
    for (int i = 0; i < phnum; i++) {
      int ph = (int) (phoff + (long) i * phentsize);
      if (b.getInt(ph) == 1) { // PT_LOAD
        int offset = (int) b.getLong(ph + 8);
        long paddr = b.getLong(ph + 0x18);
        int filesz = (int) b.getLong(ph + 0x20);
        memory.write(GuestAddress.of(paddr), elf, offset, filesz);
      }
    }
    return b.getLong(0x18);
  }
}
