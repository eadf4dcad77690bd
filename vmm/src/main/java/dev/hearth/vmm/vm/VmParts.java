package dev.hearth.vmm.vm;

import static dev.hearth.vmm.arch.x86_64.X86Layout.CMDLINE_MAX_SIZE;
import static dev.hearth.vmm.arch.x86_64.X86Layout.CMDLINE_START;

import dev.hearth.vmm.arch.x86_64.BootParams;
import dev.hearth.vmm.arch.x86_64.GuestRam;
import dev.hearth.vmm.config.VmConfig;
import dev.hearth.vmm.devices.bus.MmioBus;
import dev.hearth.vmm.devices.bus.PioBus;
import dev.hearth.vmm.devices.legacy.BootTimer;
import dev.hearth.vmm.devices.legacy.ConsoleOutput;
import dev.hearth.vmm.devices.legacy.GuestExitPort;
import dev.hearth.vmm.devices.legacy.I8042;
import dev.hearth.vmm.devices.legacy.Serial16550;
import dev.hearth.vmm.kvm.VcpuFd;
import dev.hearth.vmm.kvm.VmFd;
import dev.hearth.vmm.loader.KernelCmdline;
import dev.hearth.vmm.loader.LoadedKernel;
import dev.hearth.vmm.memory.GuestAddress;
import dev.hearth.vmm.memory.MappedGuestMemory;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Everything one VM owns, as {@link VmBuilder}'s steps made it: the KVM VM, guest memory, buses and
 * legacy devices, irqfds, the event loop, the vCPUs and the virtio devices of its config. Released
 * in reverse order of creation.
 */
final class VmParts implements AutoCloseable {
  /**
   * What a fresh boot still has to write at start: the loaded kernel and where the initrd went.
   * Absent for a restored VM, whose memory already holds it all.
   */
  record BootPlan(LoadedKernel kernel, long initrdAddress, long initrdSize) {}

  final VmConfig config;
  final VmEnd end;
  final PioBus pio = new PioBus();
  final MmioBus mmio = new MmioBus();
  final List<VcpuFd> vcpus = new ArrayList<>();
  private final Deque<AutoCloseable> closers = new ArrayDeque<>();
  VmFd vm;
  MappedGuestMemory memory;
  DirtyLog dirtyLog;
  MmioSlots slots;
  ConsoleOutput console;
  Serial16550 serial;
  I8042 i8042;
  BootTimer bootTimer;
  GuestExitPort guestExit;
  EventLoop eventLoop;
  VirtioDeviceSet devices;
  BootPlan bootPlan;

  VmParts(VmConfig config, VmEnd end) {
    this.config = config;
    this.end = end;
  }

  <T extends AutoCloseable> T own(T resource) {
    closers.push(resource);
    return resource;
  }

  /** Writes the command line and the zero page; nothing for a restored VM. */
  void writeBootParameters() {
    if (bootPlan == null) {
      return;
    }
    KernelCmdline cmdline = new KernelCmdline(CMDLINE_MAX_SIZE).append(config.boot().cmdline());
    slots.cmdlineParams().forEach(cmdline::append);
    byte[] line = cmdline.toBytes();
    memory.memory().write(GuestAddress.of(CMDLINE_START), line, 0, line.length);
    LoadedKernel kernel = bootPlan.kernel();
    BootParams params = kernel.setupHeader().map(BootParams::new).orElseGet(BootParams::new);
    params
        .loader()
        .cmdline(CMDLINE_START, line.length - 1)
        .e820(GuestRam.e820(config.memoryBytes()));
    if (bootPlan.initrdSize() > 0) {
      params.initrd(bootPlan.initrdAddress(), bootPlan.initrdSize());
    }
    params.writeTo(memory.memory());
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
