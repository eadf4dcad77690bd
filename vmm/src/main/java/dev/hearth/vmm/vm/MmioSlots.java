package dev.hearth.vmm.vm;

import static dev.hearth.vmm.arch.x86_64.X86Layout.MMIO_SLOTS_END;
import static dev.hearth.vmm.arch.x86_64.X86Layout.MMIO_SLOT_SIZE;
import static dev.hearth.vmm.arch.x86_64.X86Layout.VIRTIO_IRQ_FIRST;
import static dev.hearth.vmm.arch.x86_64.X86Layout.VIRTIO_IRQ_LAST;
import static dev.hearth.vmm.arch.x86_64.X86Layout.VIRTIO_MMIO_START;

import dev.hearth.vmm.devices.bus.BusDevice;
import dev.hearth.vmm.devices.bus.MmioBus;
import dev.hearth.vmm.kvm.VmFd;
import dev.hearth.vmm.sys.EventFd;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Hands out virtio-mmio slots: the next 4 KiB MMIO window and GSI, with an irqfd for the GSI, and
 * the {@code virtio_mmio.device=} parameter that announces it. Allocation and bus registration are
 * two steps, so that a device can be built knowing its slot (its interrupt line) before it goes on
 * the bus. Slots are handed out in order, so the same devices in the same order get the same slots
 * again on restore.
 */
final class MmioSlots {
  private final VmFd vm;
  private final MmioBus mmio;
  private final Consumer<AutoCloseable> owner;
  private final List<String> cmdlineParams = new ArrayList<>();
  private int nextGsi = VIRTIO_IRQ_FIRST;
  private long nextMmio = VIRTIO_MMIO_START;

  /**
   * @param owner takes the irqfds made here; the VM closes them with its other resources
   */
  MmioSlots(VmFd vm, MmioBus mmio, Consumer<AutoCloseable> owner) {
    this.vm = vm;
    this.mmio = mmio;
    this.owner = owner;
  }

  /** The next slot, with its interrupt wired to its GSI. */
  synchronized MmioSlot allocate(String name) {
    if (nextGsi > VIRTIO_IRQ_LAST || nextMmio + MMIO_SLOT_SIZE > MMIO_SLOTS_END) {
      throw new VmException("no MMIO slot or interrupt left for device " + name);
    }
    EventFd irq = new EventFd();
    owner.accept(irq);
    vm.registerIrqfd(irq.fd(), nextGsi);
    MmioSlot slot = new MmioSlot(nextMmio, MMIO_SLOT_SIZE, nextGsi, irq::signal, irq.fd());
    nextGsi++;
    nextMmio += MMIO_SLOT_SIZE;
    return slot;
  }

  /** Puts {@code device} on the MMIO bus at {@code slot} and announces it to the kernel. */
  synchronized void register(MmioSlot slot, BusDevice device, String name) {
    mmio.register(slot.base(), slot.size(), device, name);
    cmdlineParams.add(
        "virtio_mmio.device=4K@0x" + Long.toHexString(slot.base()) + ":" + slot.gsi());
  }

  /** The kernel command-line parameters of every registered slot, in order. */
  synchronized List<String> cmdlineParams() {
    return List.copyOf(cmdlineParams);
  }
}
