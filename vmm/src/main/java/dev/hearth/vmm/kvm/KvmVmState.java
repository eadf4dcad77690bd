package dev.hearth.vmm.kvm;

/**
 * The state of a VM's in-kernel devices, each as the kernel's own struct.
 *
 * @param picMaster {@code struct kvm_irqchip} of the master PIC (520 bytes)
 * @param picSlave the slave PIC's
 * @param ioapic the IOAPIC's
 * @param pit {@code struct kvm_pit_state2} (112 bytes)
 * @param clock {@code struct kvm_clock_data} (48 bytes): kvmclock, which the guest reads as time
 */
public record KvmVmState(
    byte[] picMaster, byte[] picSlave, byte[] ioapic, byte[] pit, byte[] clock) {}
