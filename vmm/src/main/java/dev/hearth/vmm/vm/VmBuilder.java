package dev.hearth.vmm.vm;

import static dev.hearth.vmm.arch.x86_64.X86Layout.*;

import dev.hearth.vmm.arch.x86_64.BootMsrs;
import dev.hearth.vmm.arch.x86_64.Cpuid;
import dev.hearth.vmm.arch.x86_64.GuestRam;
import dev.hearth.vmm.arch.x86_64.Lapic;
import dev.hearth.vmm.arch.x86_64.LongMode;
import dev.hearth.vmm.arch.x86_64.MpTable;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.devices.legacy.BootTimer;
import dev.hearth.vmm.devices.legacy.ConsoleOutput;
import dev.hearth.vmm.devices.legacy.GuestExitPort;
import dev.hearth.vmm.devices.legacy.I8042;
import dev.hearth.vmm.devices.legacy.Serial16550;
import dev.hearth.vmm.kvm.CpuidEntry;
import dev.hearth.vmm.kvm.Kvm;
import dev.hearth.vmm.kvm.Regs;
import dev.hearth.vmm.kvm.VcpuFd;
import dev.hearth.vmm.loader.InitrdPlacement;
import dev.hearth.vmm.loader.KernelLoader;
import dev.hearth.vmm.loader.LoadedKernel;
import dev.hearth.vmm.loader.LoaderException;
import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestRegion;
import dev.hearth.vmm.memory.MappedGuestMemory;
import dev.hearth.vmm.sys.seccomp.ThreadSandbox;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Builds a VM's {@link VmParts} step by step, as Firecracker's {@code builder.rs} does: {@link
 * #memory} (or {@link #memoryFrom} for a restore), {@link #irqchip}, {@link #vcpus}, {@link
 * #legacyDevices}, {@link #virtioDevices}, then {@link #boot} for a fresh boot. A restore runs the
 * same steps but, instead of {@link #boot}, sets the saved state on what they built ({@link
 * VmRestorer}). Each step needs the ones before it; a step that fails leaves the parts for {@link
 * #abandon} to release.
 */
final class VmBuilder {
  private static final System.Logger LOG = System.getLogger(VmBuilder.class.getName());
  private static volatile List<CpuidEntry> supportedCpuid;

  private final VmParts p;
  private final OutputStream consoleSink;

  /**
   * @param consoleSink also gets the console's output (may be null)
   * @param end what every part calls to end the VM
   */
  VmBuilder(VmConfig config, OutputStream consoleSink, VmEnd end) {
    this.p = new VmParts(config, end);
    this.consoleSink = consoleSink;
  }

  /** Creates the KVM VM and maps fresh, empty guest memory into it. */
  VmBuilder memory() {
    createVm();
    mapMemory(MappedGuestMemory.map(GuestRam.ranges(p.config.memoryBytes())));
    return this;
  }

  /**
   * Creates the KVM VM with guest memory mapped copy-on-write from {@code file} (a snapshot's
   * memory file): pages are read in as the guest touches them, and its writes stay private.
   */
  VmBuilder memoryFrom(Path file) {
    createVm();
    mapMemory(MappedGuestMemory.mapFile(GuestRam.ranges(p.config.memoryBytes()), file));
    return this;
  }

  private void createVm() {
    try (Kvm kvm = Kvm.open()) {
      if (p.config.vcpus() > kvm.maxVcpus()) {
        throw new VmException(
            "vcpus: "
                + p.config.vcpus()
                + " is more than this host's KVM allows ("
                + kvm.maxVcpus()
                + ")");
      }
      if (supportedCpuid == null) {
        supportedCpuid = kvm.supportedCpuid();
      }
      p.vm = p.own(kvm.createVm());
    }
    p.slots = new MmioSlots(p.vm, p.mmio, p::own);
  }

  private void mapMemory(MappedGuestMemory memory) {
    p.memory = p.own(memory);
    int slot = 0;
    for (GuestRegion r : memory.memory().regions()) {
      p.vm.setUserMemoryRegion(slot++, r.start().raw(), r.host());
    }
    p.dirtyLog = new DirtyLog(p.vm, memory.memory());
  }

  /** The in-kernel PIC, IOAPIC and LAPICs, and the PIT. */
  VmBuilder irqchip() {
    p.vm.setTssAddress(KVM_TSS_ADDRESS);
    p.vm.createIrqchip();
    p.vm.createPit2();
    return this;
  }

  /** Creates every vCPU and gives it this host's CPUID, filtered for the VM. */
  VmBuilder vcpus() {
    for (int id = 0; id < p.config.vcpus(); id++) {
      VcpuFd vcpu = p.own(p.vm.createVcpu(id));
      p.vcpus.add(vcpu);
      vcpu.setCpuid(Cpuid.forVcpu(supportedCpuid, id, p.config.vcpus()));
    }
    return this;
  }

  /** The serial console, the i8042 and the boot timer, and the event loop devices run on. */
  VmBuilder legacyDevices() {
    VmConfig config = p.config;
    p.console = new ConsoleOutput(config.consoleBufferBytes(), consoleSink);
    // KVM_IRQ_LINE rather than an irqfd: a polled console never interrupts, and an eventfd plus
    // irqfd per VM cost a descriptor and about 0.06 ms of CPU to make and tear down.
    p.serial = new Serial16550(p.console, () -> p.vm.pulseIrqLine(SERIAL_IRQ));
    p.pio.register(SERIAL_PORT, 8, p.serial, "serial COM1");
    p.i8042 = new I8042(() -> p.end.end(ExitReason.RESET, "the guest reset itself"));
    p.pio.register(I8042_PORT, I8042_PORT_SIZE, p.i8042, "i8042");
    p.bootTimer =
        new BootTimer(
            System::nanoTime,
            d ->
                LOG.log(
                    Level.INFO,
                    "{0}: guest boot time {1} ms",
                    config.name(),
                    d.toNanos() / 1_000_000.0));
    p.mmio.register(BOOT_TIMER_MMIO, MMIO_SLOT_SIZE, p.bootTimer, "boot timer");
    p.pio.register(BOOT_TIMER_PORT, 1, p.bootTimer, "boot timer port");
    p.guestExit = new GuestExitPort();
    p.pio.register(GUEST_EXIT_PORT, GUEST_EXIT_PORT_SIZE, p.guestExit, "guest exit port");
    p.eventLoop =
        p.own(
            new EventLoop(
                "events-" + config.name(),
                why -> p.end.end(ExitReason.VMM_ERROR, why),
                ThreadSandbox.of(config.seccomp())));
    return this;
  }

  /** The virtio devices of the config, each in the next MMIO slot. */
  VmBuilder virtioDevices() {
    p.devices =
        p.own(
            VirtioDeviceSet.attach(
                p.config.name(),
                p.config.devices(),
                p.vm,
                p.memory.memory(),
                p.eventLoop,
                p.slots,
                why -> p.end.end(ExitReason.VMM_ERROR, why)));
    return this;
  }

  /**
   * Loads the kernel (and initrd), writes the MP and page tables, and puts every vCPU at the
   * kernel's entry in long mode. The command line and zero page are written at start, once every
   * device is known.
   */
  VmParts boot() {
    VmConfig config = p.config;
    LoadedKernel kernel = KernelLoader.load(config.boot().kernel(), p.memory.memory());
    long initrdAddress = 0;
    long initrdSize = 0;
    if (config.boot().initrd().isPresent()) {
      Path initrd = config.boot().initrd().get();
      initrdAddress =
          InitrdPlacement.load(
              initrd, kernel, p.memory.memory(), GuestRam.lowRamEnd(config.memoryBytes()));
      initrdSize = sizeOf(initrd);
    }
    p.bootPlan = new VmParts.BootPlan(kernel, initrdAddress, initrdSize);
    LongMode.writeTables(p.memory.memory());
    byte[] mp = MpTable.build(config.vcpus());
    p.memory.memory().write(GuestAddress.of(MPTABLE_START), mp, 0, mp.length);
    for (VcpuFd vcpu : p.vcpus) {
      vcpu.setMsrs(BootMsrs.entries());
      vcpu.setRegs(Regs.entry(kernel.entry(), BOOT_STACK_POINTER, ZERO_PAGE_START));
      vcpu.setSregs(LongMode.apply(vcpu.getSregs()));
      vcpu.setFpu(0x37f, 0x1f80);
      vcpu.setLapic(Lapic.withLint(vcpu.getLapic()));
    }
    return p;
  }

  /** What this host's KVM offers a guest ({@code KVM_GET_SUPPORTED_CPUID}), once a VM exists. */
  static List<CpuidEntry> supportedCpuid() {
    return supportedCpuid;
  }

  /** The parts built so far, for a restore to set state on. */
  VmParts parts() {
    return p;
  }

  /**
   * Releases whatever the steps built after {@code failure}, and returns what to throw: the same
   * runtime exception, or a {@link VmException} for an error (a JVM out of memory, say), so that
   * the caller gets a VMM failure it can report and nothing of the VM is left behind.
   */
  RuntimeException abandon(Throwable failure) {
    RuntimeException thrown =
        failure instanceof RuntimeException re
            ? re
            : new VmException("creating VM " + p.config.name() + " failed: " + failure, failure);
    try {
      p.close();
    } catch (RuntimeException e) {
      thrown.addSuppressed(e);
    }
    return thrown;
  }

  private static long sizeOf(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw new LoaderException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}
