package dev.hearth.vmm.vm;

import static dev.hearth.vmm.arch.x86_64.X86Layout.*;

import dev.hearth.vmm.arch.x86_64.BootMsrs;
import dev.hearth.vmm.arch.x86_64.BootParams;
import dev.hearth.vmm.arch.x86_64.Cpuid;
import dev.hearth.vmm.arch.x86_64.GuestRam;
import dev.hearth.vmm.arch.x86_64.Lapic;
import dev.hearth.vmm.arch.x86_64.LongMode;
import dev.hearth.vmm.arch.x86_64.MpTable;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.devices.bus.BusDevice;
import dev.hearth.vmm.devices.bus.MmioBus;
import dev.hearth.vmm.devices.bus.PioBus;
import dev.hearth.vmm.devices.legacy.BootTimer;
import dev.hearth.vmm.devices.legacy.ConsoleOutput;
import dev.hearth.vmm.devices.legacy.I8042;
import dev.hearth.vmm.devices.legacy.Serial16550;
import dev.hearth.vmm.kvm.CpuidEntry;
import dev.hearth.vmm.kvm.Kvm;
import dev.hearth.vmm.kvm.Regs;
import dev.hearth.vmm.kvm.VcpuFd;
import dev.hearth.vmm.kvm.VmFd;
import dev.hearth.vmm.loader.InitrdPlacement;
import dev.hearth.vmm.loader.KernelCmdline;
import dev.hearth.vmm.loader.KernelLoader;
import dev.hearth.vmm.loader.LoadedKernel;
import dev.hearth.vmm.loader.LoaderException;
import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.GuestRegion;
import dev.hearth.vmm.memory.MappedGuestMemory;
import dev.hearth.vmm.sys.EventFd;
import dev.hearth.vmm.sys.seccomp.ThreadSandbox;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Everything one VM owns, built in order and released in reverse: the KVM VM, guest memory, the
 * loaded kernel, buses and legacy devices, irqfds, the event loop, the vCPUs and the virtio devices
 * of its config.
 */
final class VmParts implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(VmParts.class.getName());
  private static volatile List<CpuidEntry> supportedCpuid;

  private final VmConfig config;
  private final Deque<AutoCloseable> closers = new ArrayDeque<>();
  private final List<VcpuFd> vcpus = new ArrayList<>();
  private final List<String> deviceParams = new ArrayList<>();
  private VmFd vm;
  private MappedGuestMemory memory;
  private LoadedKernel kernel;
  private long initrdAddress;
  private long initrdSize;
  private ConsoleOutput console;
  private Serial16550 serial;
  private BootTimer bootTimer;
  private final PioBus pio = new PioBus();
  private final MmioBus mmio = new MmioBus();
  private EventLoop eventLoop;
  private VirtioDeviceSet devices;
  private int nextGsi = VIRTIO_IRQ_FIRST;
  private long nextMmio = VIRTIO_MMIO_START;

  private VmParts(VmConfig config) {
    this.config = config;
  }

  /**
   * Builds every part of the VM. {@code onReset}: the guest pulled the i8042 reset line. {@code
   * onLoopDeath}: the event loop or a device's own thread died, with why; the VM must end.
   */
  static VmParts build(
      VmConfig config, OutputStream consoleSink, Runnable onReset, Consumer<String> onLoopDeath) {
    VmParts p = new VmParts(config);
    try {
      p.buildAll(consoleSink, onReset, onLoopDeath);
      return p;
    } catch (RuntimeException e) {
      closeAfter(p, e);
      throw e;
    } catch (Error e) {
      // Whatever went wrong (a JVM out of memory, say), the caller gets a VMM failure it can
      // report,
      // and nothing of the VM is left behind.
      VmException failure = new VmException("creating VM " + config.name() + " failed: " + e, e);
      closeAfter(p, failure);
      throw failure;
    }
  }

  private static void closeAfter(VmParts p, Throwable cause) {
    try {
      p.close();
    } catch (RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  private void buildAll(OutputStream consoleSink, Runnable onReset, Consumer<String> onLoopDeath) {
    List<CpuidEntry> cpuid;
    try (Kvm kvm = Kvm.open()) {
      if (config.vcpus() > kvm.maxVcpus()) {
        throw new VmException(
            "vcpus: "
                + config.vcpus()
                + " is more than this host's KVM allows ("
                + kvm.maxVcpus()
                + ")");
      }
      cpuid = supportedCpuid;
      if (cpuid == null) {
        cpuid = kvm.supportedCpuid();
        supportedCpuid = cpuid;
      }
      vm = own(kvm.createVm());
    }
    vm.setTssAddress(KVM_TSS_ADDRESS);
    vm.createIrqchip();
    vm.createPit2();

    memory = own(MappedGuestMemory.map(GuestRam.ranges(config.memoryBytes())));
    int slot = 0;
    for (GuestRegion r : memory.memory().regions()) {
      vm.setUserMemoryRegion(slot++, r.start().raw(), r.host());
    }

    kernel = KernelLoader.load(config.boot().kernel(), memory.memory());
    if (config.boot().initrd().isPresent()) {
      Path initrd = config.boot().initrd().get();
      initrdAddress =
          InitrdPlacement.load(
              initrd, kernel, memory.memory(), GuestRam.lowRamEnd(config.memoryBytes()));
      initrdSize = sizeOf(initrd);
    }
    LongMode.writeTables(memory.memory());
    byte[] mp = MpTable.build(config.vcpus());
    memory.memory().write(GuestAddress.of(MPTABLE_START), mp, 0, mp.length);

    console = new ConsoleOutput(config.consoleBufferBytes(), consoleSink);
    EventFd serialIrq = own(new EventFd());
    vm.registerIrqfd(serialIrq.fd(), SERIAL_IRQ);
    serial = new Serial16550(console, serialIrq::signal);
    pio.register(SERIAL_PORT, 8, serial, "serial COM1");
    pio.register(I8042_PORT, I8042_PORT_SIZE, new I8042(onReset), "i8042");
    bootTimer =
        new BootTimer(
            System::nanoTime,
            d ->
                LOG.log(
                    Level.INFO,
                    "{0}: guest boot time {1} ms",
                    config.name(),
                    d.toNanos() / 1_000_000.0));
    mmio.register(BOOT_TIMER_MMIO, MMIO_SLOT_SIZE, bootTimer, "boot timer");
    pio.register(BOOT_TIMER_PORT, 1, bootTimer, "boot timer port");

    eventLoop =
        own(
            new EventLoop(
                "events-" + config.name(), onLoopDeath, ThreadSandbox.of(config.seccomp())));

    for (int id = 0; id < config.vcpus(); id++) {
      VcpuFd vcpu = own(vm.createVcpu(id));
      vcpus.add(vcpu);
      configureVcpu(vcpu, cpuid);
    }

    devices =
        own(
            VirtioDeviceSet.attach(
                config.name(),
                config.devices(),
                vm,
                memory.memory(),
                eventLoop,
                (name, factory) -> addVirtioMmio(name, factory::apply),
                onLoopDeath));
  }

  private static long sizeOf(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw new LoaderException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private void configureVcpu(VcpuFd vcpu, List<CpuidEntry> supported) {
    vcpu.setCpuid(Cpuid.forVcpu(supported, vcpu.id(), config.vcpus()));
    vcpu.setMsrs(BootMsrs.entries());
    vcpu.setRegs(Regs.entry(kernel.entry(), BOOT_STACK_POINTER, ZERO_PAGE_START));
    vcpu.setSregs(LongMode.apply(vcpu.getSregs()));
    vcpu.setFpu(0x37f, 0x1f80);
    vcpu.setLapic(Lapic.withLint(vcpu.getLapic()));
  }

  MmioSlot addVirtioMmio(String name, Function<MmioSlot, BusDevice> factory) {
    if (nextGsi > VIRTIO_IRQ_LAST || nextMmio + MMIO_SLOT_SIZE > MMIO_SLOTS_END) {
      throw new VmException("no MMIO slot or interrupt left for device " + name);
    }
    EventFd irq = own(new EventFd());
    vm.registerIrqfd(irq.fd(), nextGsi);
    MmioSlot slot = new MmioSlot(nextMmio, MMIO_SLOT_SIZE, nextGsi, irq::signal, irq.fd());
    mmio.register(slot.base(), slot.size(), factory.apply(slot), name);
    deviceParams.add("virtio_mmio.device=4K@0x" + Long.toHexString(slot.base()) + ":" + slot.gsi());
    nextGsi++;
    nextMmio += MMIO_SLOT_SIZE;
    return slot;
  }

  /** Writes the command line and the zero page. */
  void writeBootParameters() {
    KernelCmdline cmdline = new KernelCmdline(CMDLINE_MAX_SIZE).append(config.boot().cmdline());
    deviceParams.forEach(cmdline::append);
    byte[] line = cmdline.toBytes();
    memory.memory().write(GuestAddress.of(CMDLINE_START), line, 0, line.length);
    BootParams params = kernel.setupHeader().map(BootParams::new).orElseGet(BootParams::new);
    params
        .loader()
        .cmdline(CMDLINE_START, line.length - 1)
        .e820(GuestRam.e820(config.memoryBytes()));
    if (initrdSize > 0) {
      params.initrd(initrdAddress, initrdSize);
    }
    params.writeTo(memory.memory());
  }

  private <T extends AutoCloseable> T own(T resource) {
    closers.push(resource);
    return resource;
  }

  VmFd vm() {
    return vm;
  }

  MappedGuestMemory memory() {
    return memory;
  }

  List<VcpuFd> vcpus() {
    return vcpus;
  }

  ConsoleOutput console() {
    return console;
  }

  Serial16550 serial() {
    return serial;
  }

  BootTimer bootTimer() {
    return bootTimer;
  }

  PioBus pio() {
    return pio;
  }

  MmioBus mmio() {
    return mmio;
  }

  EventLoop eventLoop() {
    return eventLoop;
  }

  VirtioDeviceSet devices() {
    return devices;
  }

  /**
   * Stops the event loop, so no device handler runs any more, then releases everything in reverse
   * order of creation; the first failure is rethrown last.
   */
  @Override
  public void close() {
    RuntimeException first = null;
    if (eventLoop != null) {
      eventLoop.stop();
    }
    while (!closers.isEmpty()) {
      try {
        closers.pop().close();
      } catch (Exception e) {
        if (first == null) {
          first = new VmException("releasing a VM resource failed: " + e.getMessage(), e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
